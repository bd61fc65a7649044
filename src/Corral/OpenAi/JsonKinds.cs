using System.Text.Json;

namespace Corral.OpenAi;

/// <summary>Go's names for JSON value types, as Ollama's error messages print them (<c>%T</c> of a decoded value).</summary>
internal static class JsonKinds
{
    public static string GoType(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "float64",
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Array => "[]interface {}",
        JsonValueKind.Object => "map[string]interface {}",
        _ => "<nil>",
    };

    /// <summary>The property, unless it is absent or JSON null.</summary>
    public static JsonElement? Get(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
