using System.Text;
using System.Text.Json;

namespace Corral.Forwarding;

/// <summary>Ollama's error shape, <c>{"error":"..."}</c>: writing it and reading it back out of a body.</summary>
internal static class OllamaError
{
    /// <summary>Writes <c>{"error": message}</c> with the given status (when headers are not yet sent).</summary>
    public static Task WriteAsync(HttpContext context, int status, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (context.Features.Get<Pipeline.RequestRecord>() is { } record)
        {
            record.Error ??= message;
        }

        var body = Encode(message);
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The bytes of <c>{"error": message}</c> (no trailing newline).</summary>
    public static byte[] Encode(string message)
    {
        using var buffer = new MemoryStream(message.Length + 16);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The message of an Ollama error body, or the body's text when it is not that shape.</summary>
    public static string MessageOf(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isError = reader.ValueTextEquals("error"u8);
                    reader.Read();
                    if (isError && reader.TokenType == JsonTokenType.String)
                    {
                        return reader.GetString()!;
                    }

                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: fall through to the raw text.
        }

        var text = Encoding.UTF8.GetString(body).Trim();
        return text.Length == 0 ? "(empty answer)" : text.Length > 300 ? text[..300] + "…" : text;
    }
}
