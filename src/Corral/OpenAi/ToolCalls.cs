using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Corral.OpenAi;

/// <summary>
/// Tool calls between the two shapes. Native: <c>{"id","function":{"index","name","arguments":{…}}}</c>;
/// OpenAI: <c>{"id","index","type":"function","function":{"name","arguments":"&lt;compact JSON string&gt;"}}</c>.
/// </summary>
internal static class ToolCalls
{
    /// <summary>True when a raw native <c>tool_calls</c> array holds at least one call.</summary>
    public static bool Any(ReadOnlySpan<byte> rawArray) => rawArray.IndexOf((byte)'{') >= 0;

    /// <summary>Appends the OpenAI form of a raw native <c>tool_calls</c> array.</summary>
    public static void AppendOpenAi(IBufferWriter<byte> output, ReadOnlySpan<byte> rawArray)
    {
        using var document = JsonDocument.Parse(rawArray.ToArray());
        using var writer = new Utf8JsonWriter(output, Pipeline.JsonAnswer.WriterOptions);
        WriteOpenAi(writer, document.RootElement);
    }

    /// <summary>Writes the OpenAI form of a native <c>tool_calls</c> array.</summary>
    public static void WriteOpenAi(Utf8JsonWriter writer, JsonElement nativeArray)
    {
        writer.WriteStartArray();
        foreach (var call in nativeArray.EnumerateArray())
        {
            var function = call.TryGetProperty("function"u8, out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
            writer.WriteStartObject();
            // Ollama's server always names its calls; an id is made up only for a backend that does not.
            writer.WriteString("id", call.TryGetProperty("id"u8, out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : NewId());
            writer.WriteNumber("index", function.ValueKind == JsonValueKind.Object && function.TryGetProperty("index"u8, out var index) && index.TryGetInt32(out var i) ? i : 0);
            writer.WriteString("type", "function");
            writer.WriteStartObject("function");
            writer.WriteString("name", function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name"u8, out var name) ? name.GetString() : string.Empty);
            writer.WriteString("arguments", function.ValueKind == JsonValueKind.Object && function.TryGetProperty("arguments"u8, out var arguments) ? Compact(arguments) : "{}");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>The compact JSON text of a value, keys in their original order (as Go's encoder writes it).</summary>
    public static string Compact(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Pipeline.JsonAnswer.WriterOptions))
        {
            value.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>An id like the ones Ollama makes: <c>call_</c> and 8 lowercase letters or digits.</summary>
    public static string NewId() => "call_" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 8);
}
