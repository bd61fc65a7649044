using System.Text.Json;
using Corral.Catalog;
using Corral.Forwarding;
using Corral.Pipeline;

namespace Corral.Anthropic;

/// <summary>
/// A Messages request (<c>POST /v1/messages</c>): passed to the backend's own <c>/v1/messages</c>, which Ollama
/// translates to chat. A preset is said in Messages' words, the ones Ollama's translation reads: its system prompt
/// before the client's <c>system</c>, <c>temperature</c>, <c>top_p</c>, <c>top_k</c>, <c>stop_sequences</c> (its
/// <c>stop</c>), <c>max_tokens</c> (its <c>num_predict</c>), and <c>think</c> as <c>thinking</c> (true, false) or
/// <c>output_config.effort</c> (a level). Messages has no field for other options, <c>keep_alive</c> or <c>format</c>.
/// </summary>
internal sealed class MessagesInference(JsonRequestBody body) : CompatibleInference(body)
{
    private static readonly string[] s_finalEvents = ["message_stop"];

    protected override string[] FinalEvents => s_finalEvents;

    public override ProxyError NotFound() => ProxyError.NotFound($"model '{Model}' not found");

    protected override IReadOnlyList<(string Name, FieldWriter Write)> PresetFields(ModelPreset preset, string model)
    {
        var fields = new List<(string, FieldWriter)>
        {
            ModelField(model),
            BodyRewrite.Prefer("temperature", Option(preset, "temperature")),
            BodyRewrite.Prefer("top_p", Option(preset, "top_p")),
            BodyRewrite.Prefer("top_k", Option(preset, "top_k")),
            BodyRewrite.Prefer("max_tokens", Option(preset, "num_predict")),
            ("stop_sequences", (writer, client) => StopSequences(writer, Option(preset, "stop") ?? client)),
        };
        if (preset.System is { } system)
        {
            fields.Add(("system", (writer, client) => System(writer, system, client)));
        }

        if (preset.Think is { } think)
        {
            // Ollama reads thinking before output_config: a level goes alone, a boolean as thinking.
            fields.Add(("thinking", (writer, _) => Thinking(writer, think)));
            fields.Add(("output_config", (writer, client) => OutputConfig(writer, think, client)));
        }

        return fields;
    }

    /// <summary>Anthropic's own <c>error</c> event, as its API ends a stream that fails.</summary>
    protected override byte[] StreamError(string message) => ErrorEvent(message, static (writer, text) =>
    {
        writer.WriteStartObject();
        writer.WriteString("type", "error");
        writer.WriteStartObject("error");
        writer.WriteString("type", "api_error");
        writer.WriteString("message", text);
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    // The preset's prompt first, then the client's, as one system prompt (Ollama makes one system message of it).
    private static void System(Utf8JsonWriter writer, string first, JsonElement? client)
    {
        switch (client)
        {
            case { ValueKind: JsonValueKind.String } text when text.GetString() is { Length: > 0 } own:
                writer.WriteString("system", first + "\n\n" + own);
                break;
            case { ValueKind: JsonValueKind.Array } blocks:
                // Ollama joins the text blocks without a separator: the preset's block carries it.
                writer.WriteStartArray("system");
                writer.WriteStartObject();
                writer.WriteString("type", "text");
                writer.WriteString("text", blocks.GetArrayLength() > 0 ? first + "\n\n" : first);
                writer.WriteEndObject();
                foreach (var block in blocks.EnumerateArray())
                {
                    block.WriteTo(writer);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteString("system", first);
                break;
        }
    }

    private static void Thinking(Utf8JsonWriter writer, JsonElement think)
    {
        if (think.ValueKind != JsonValueKind.String)
        {
            writer.WriteStartObject("thinking");
            writer.WriteString("type", think.ValueKind == JsonValueKind.True ? "enabled" : "disabled");
            writer.WriteEndObject();
        }
    }

    private static void OutputConfig(Utf8JsonWriter writer, JsonElement think, JsonElement? client)
    {
        if (think.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject("output_config");
            writer.WriteString("effort", think.GetString());
            writer.WriteEndObject();
        }
        else if (client is { } own)
        {
            writer.WritePropertyName("output_config");
            own.WriteTo(writer);
        }
    }

    // Ollama's stop may be one string or several; Messages takes a list.
    private static void StopSequences(Utf8JsonWriter writer, JsonElement? stop)
    {
        if (stop is not { } value)
        {
            return;
        }

        writer.WritePropertyName("stop_sequences");
        if (value.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(value.GetString());
            writer.WriteEndArray();
        }
        else
        {
            value.WriteTo(writer);
        }
    }
}
