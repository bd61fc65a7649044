using System.Text.Json;
using Corral.Catalog;
using Corral.Forwarding;
using Corral.Native;
using Corral.Pipeline;

namespace Corral.OpenAi;

/// <summary>
/// A Responses request (<c>POST /v1/responses</c>): passed to the backend's own <c>/v1/responses</c>, which Ollama
/// translates to chat. A preset is said in Responses' words, the ones Ollama's translation reads: its system prompt
/// before the client's <c>instructions</c>, <c>temperature</c>, <c>top_p</c>, <c>max_output_tokens</c> (its
/// <c>num_predict</c>), <c>think</c> as <c>reasoning.effort</c> (<c>none</c> for false, <c>medium</c> for true, or the
/// level) and a JSON schema <c>format</c> as <c>text.format</c>. Responses has no field for other options or
/// <c>keep_alive</c>, and Ollama reads no <c>"json"</c> format there.
/// </summary>
internal sealed class ResponsesInference(JsonRequestBody body) : CompatibleInference(body)
{
    private static readonly string[] s_finalEvents = ["response.completed", "response.failed", "response.incomplete"];

    protected override string[] FinalEvents => s_finalEvents;

    public override ProxyError NotFound() => ProxyError.NotFound(InferenceEndpoints.NotFound(NativeRoute.Chat, Model));

    protected override IReadOnlyList<(string Name, FieldWriter Write)> PresetFields(ModelPreset preset, string model)
    {
        var fields = new List<(string, FieldWriter)>
        {
            ModelField(model),
            BodyRewrite.Prefer("temperature", Option(preset, "temperature")),
            BodyRewrite.Prefer("top_p", Option(preset, "top_p")),
            BodyRewrite.Prefer("max_output_tokens", Option(preset, "num_predict")),
        };
        if (preset.System is { } system)
        {
            fields.Add(("instructions", (writer, client) => writer.WriteString(
                "instructions",
                client is { ValueKind: JsonValueKind.String } own && own.GetString() is { Length: > 0 } text ? system + "\n\n" + text : system)));
        }

        if (preset.Think is { } think)
        {
            var effort = think.ValueKind switch
            {
                JsonValueKind.String => think.GetString()!,
                JsonValueKind.False => "none",
                _ => "medium",
            };
            fields.Add(("reasoning", (writer, client) => WriteWith(writer, "reasoning", client, "effort", w => w.WriteStringValue(effort))));
        }

        if (preset.Format is { ValueKind: JsonValueKind.Object } schema)
        {
            fields.Add(("text", (writer, client) => WriteWith(writer, "text", client, "format", w =>
            {
                w.WriteStartObject();
                w.WriteString("type", "json_schema");
                w.WriteString("name", preset.Name);
                w.WritePropertyName("schema");
                schema.WriteTo(w);
                w.WriteEndObject();
            })));
        }

        return fields;
    }

    /// <summary>OpenAI's <c>error</c> event of a Responses stream.</summary>
    protected override byte[] StreamError(string message) => ErrorEvent(message, static (writer, text) =>
    {
        writer.WriteStartObject();
        writer.WriteString("type", "error");
        writer.WriteString("code", "server_error");
        writer.WriteString("message", text);
        writer.WriteNull("param");
        writer.WriteEndObject();
    });

    // The client's object (if it sent one) with one of its fields set by the preset.
    private static void WriteWith(Utf8JsonWriter writer, string name, JsonElement? client, string field, Action<Utf8JsonWriter> value)
    {
        writer.WriteStartObject(name);
        if (client is { ValueKind: JsonValueKind.Object } own)
        {
            foreach (var property in own.EnumerateObject())
            {
                if (!property.NameEquals(field))
                {
                    property.WriteTo(writer);
                }
            }
        }

        writer.WritePropertyName(field);
        value(writer);
        writer.WriteEndObject();
    }
}
