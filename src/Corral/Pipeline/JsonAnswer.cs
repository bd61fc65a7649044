using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Corral.Pipeline;

/// <summary>
/// The answers Corral composes itself (errors, listings, translated OpenAI bodies): JSON written into a pooled
/// buffer with one set of writer options, then sent whole with its <c>Content-Length</c> and counted as the
/// request's bytes out.
/// </summary>
internal static class JsonAnswer
{
    /// <summary>
    /// The writer options of everything Corral writes: no escaping of HTML-sensitive characters or non-ASCII text,
    /// as Ollama (Go's encoder with SetEscapeHTML(false)) writes them.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="write"/>'s JSON as the answer with <paramref name="status"/>.</summary>
    public static async Task WriteAsync<TState>(HttpContext context, int status, string contentType, TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer, state);
        }

        await SendAsync(context, status, contentType, buffer.WrittenMemory);
    }

    /// <summary>Sends a body composed in full: status, type and length, then the bytes (none for HEAD).</summary>
    public static Task SendAsync(HttpContext context, int status, string contentType, ReadOnlyMemory<byte> body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        if (context.Features.Get<RequestRecord>() is { } record)
        {
            record.BytesOut += body.Length;
            record.KeepAnswer(body.Span);
        }

        return HttpMethods.IsHead(context.Request.Method) || body.IsEmpty
            ? Task.CompletedTask
            : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>The bytes of one JSON value written by <paramref name="write"/>.</summary>
    public static byte[] Encode<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer, state);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
