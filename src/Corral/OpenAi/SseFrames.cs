using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Corral.OpenAi;

/// <summary>Appends the pieces of SSE frames to a buffer: raw bytes, numbers, JSON strings, OpenAI errors.</summary>
internal static class SseFrames
{
    public static ReadOnlySpan<byte> Done => "data: [DONE]\n\n"u8;

    public static void Append(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    public static void AppendNumber(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    /// <summary>Appends <c>"raw"</c>: a string value that is already JSON-escaped (a slice of the backend's line).</summary>
    public static void AppendEscapedString(IBufferWriter<byte> output, ReadOnlySpan<byte> escaped)
    {
        var span = output.GetSpan(escaped.Length + 2);
        span[0] = (byte)'"';
        escaped.CopyTo(span[1..]);
        span[escaped.Length + 1] = (byte)'"';
        output.Advance(escaped.Length + 2);
    }

    /// <summary>Decodes a JSON-escaped string value (without its quotes).</summary>
    public static string DecodeString(ReadOnlySpan<byte> escaped)
    {
        var quoted = new byte[escaped.Length + 2];
        quoted[0] = (byte)'"';
        escaped.CopyTo(quoted.AsSpan(1));
        quoted[^1] = (byte)'"';
        var reader = new Utf8JsonReader(quoted);
        reader.Read();
        return reader.GetString() ?? string.Empty;
    }

    /// <summary>A JSON string token (with quotes) for <paramref name="value"/>.</summary>
    public static byte[] JsonString(string value)
    {
        var buffer = new ArrayBufferWriter<byte>(value.Length + 8);
        using (var writer = new Utf8JsonWriter(buffer, Pipeline.JsonAnswer.WriterOptions))
        {
            writer.WriteStringValue(value);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <c>data: {"error":{...}}</c>: how Corral ends an OpenAI stream that failed after it began (Ollama's own
    /// layer drops the error and truncates the stream; the OpenAI SDKs raise an APIError on this frame).
    /// </summary>
    public static void AppendError(IBufferWriter<byte> output, string message)
    {
        Append(output, "data: "u8);
        using (var writer = new Utf8JsonWriter(output, Pipeline.JsonAnswer.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", "api_error");
            writer.WriteNull("param");
            writer.WriteNull("code");
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        Append(output, "\n\n"u8);
    }

    /// <summary>Appends <c>{"prompt_tokens":p,"completion_tokens":c,"total_tokens":p+c}</c>.</summary>
    public static void AppendUsage(IBufferWriter<byte> output, int prompt, int completion)
    {
        Append(output, "{\"prompt_tokens\":"u8);
        AppendNumber(output, prompt);
        Append(output, ",\"completion_tokens\":"u8);
        AppendNumber(output, completion);
        Append(output, ",\"total_tokens\":"u8);
        AppendNumber(output, (long)prompt + completion);
        Append(output, "}"u8);
    }
}
