using System.Text.Json;
using Corral.Simulator.Models;

namespace Corral.Simulator.Endpoints;

/// <summary>JSON pieces shared by the model endpoints (api.ModelDetails and friends).</summary>
internal static class ModelJson
{
    public static void WriteDetails(Utf8JsonWriter w, ModelTraits traits)
    {
        w.WriteStartObject("details");
        w.WriteString("parent_model", string.Empty);
        w.WriteString("format", "gguf");
        w.WriteString("family", traits.Family);
        w.WriteStartArray("families");
        foreach (var family in traits.Families)
        {
            w.WriteStringValue(family);
        }

        w.WriteEndArray();
        w.WriteString("parameter_size", traits.ParameterSize);
        w.WriteString("quantization_level", traits.Quantization);
        w.WriteEndObject();
    }

    public static void WriteError(Utf8JsonWriter w, string message)
    {
        w.WriteStartObject();
        w.WriteString("error", message);
        w.WriteEndObject();
    }
}
