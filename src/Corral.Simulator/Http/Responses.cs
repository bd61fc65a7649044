using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Http;

/// <summary>Writes answers with the exact content types Ollama (gin) uses.</summary>
internal static class Responses
{
    public const string JsonContentType = "application/json; charset=utf-8";
    public const string NdjsonContentType = "application/x-ndjson";
    public const string TextContentType = "text/plain; charset=utf-8";

    /// <summary>gin's own 404/405 pages are "text/plain" without a charset.</summary>
    public const string GinTextContentType = "text/plain";

    public static readonly JsonWriterOptions WriterOptions = new()
    {
        // Ollama's texts are ASCII-clean; relaxed escaping keeps quotes inside strings readable like Go's output.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    public static byte[] Serialize(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static Task JsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write) =>
        BytesAsync(context, status, JsonContentType, Serialize(write));

    public static Task ErrorAsync(HttpContext context, int status, string message) =>
        JsonAsync(context, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });

    public static Task TextAsync(HttpContext context, int status, string contentType, string text) =>
        BytesAsync(context, status, contentType, Encoding.UTF8.GetBytes(text));

    /// <summary>A status with no body and no content type (gin's c.Status).</summary>
    public static Task EmptyAsync(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    public static async Task BytesAsync(HttpContext context, int status, string contentType, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>Writes a number field only when it is not zero (Go's omitempty on Ollama's metrics).</summary>
    public static void WriteNonZero(this Utf8JsonWriter writer, string name, long value)
    {
        if (value != 0)
        {
            writer.WriteNumber(name, value);
        }
    }
}
