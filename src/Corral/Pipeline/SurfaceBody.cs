using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Pipeline;

/// <summary>
/// Reads a surface route's JSON body, answering bad input with an error in the endpoint's own shape. A body sent
/// compressed (<c>Content-Encoding</c> zstd, as Codex sends its Responses requests, gzip or br) is read decompressed,
/// the limit counting what it decompresses to; the backend is sent it plain.
/// </summary>
internal static class SurfaceBody
{
    /// <summary>The parsed body (counted and, with <c>--log-bodies</c>, kept in the record), or null after an error answer was written.</summary>
    public static async Task<JsonRequestBody?> ReadAsync(HttpContext context, CorralSettings settings, RequestRecord? record = null)
    {
        var encoding = context.Request.Headers.ContentEncoding.ToString().Trim();
        Stream? decompressed = encoding.ToLowerInvariant() switch
        {
            "" or "identity" => null,
            "zstd" => new ZstdSharp.DecompressionStream(context.Request.Body),
            "gzip" => new System.IO.Compression.GZipStream(context.Request.Body, System.IO.Compression.CompressionMode.Decompress),
            "br" => new System.IO.Compression.BrotliStream(context.Request.Body, System.IO.Compression.CompressionMode.Decompress),
            _ => Stream.Null,
        };
        if (decompressed == Stream.Null)
        {
            await ErrorWriter.WriteAsync(context, ProxyError.BadRequest($"Content-Encoding '{encoding}' is not supported: send the body as it is, or as zstd, gzip or br"));
            return null;
        }

        JsonRequestBody? body;
        ProxyError? error;
        await using (decompressed)
        {
            var reader = decompressed is null ? context.Request.BodyReader : System.IO.Pipelines.PipeReader.Create(decompressed, new(leaveOpen: true));
            try
            {
                (body, error) = await JsonRequestBody.ReadAsync(reader, settings.MaxBodyBytes, context.RequestAborted);
            }
            catch (Exception e) when (decompressed is not null && e is InvalidDataException or IOException or ZstdSharp.ZstdException)
            {
                (body, error) = (null, ProxyError.BadRequest($"the body is not valid {encoding}: {e.Message}"));
            }

            if (decompressed is not null)
            {
                await reader.CompleteAsync();
            }
        }

        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, error!);
            return null;
        }

        if ((record ?? context.Features.Get<RequestRecord>()) is { } kept)
        {
            kept.BytesIn = body.Length;
            kept.KeepRequestBody(body.Memory.Span);
        }

        return body;
    }
}
