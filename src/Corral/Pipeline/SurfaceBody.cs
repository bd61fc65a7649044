using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Pipeline;

/// <summary>Reads a surface route's JSON body, answering bad input with an error in the endpoint's own shape.</summary>
internal static class SurfaceBody
{
    /// <summary>The parsed body (counted and, with <c>--log-bodies</c>, kept in the record), or null after an error answer was written.</summary>
    public static async Task<JsonRequestBody?> ReadAsync(HttpContext context, CorralSettings settings, RequestRecord? record = null)
    {
        var (body, error) = await JsonRequestBody.ReadAsync(context.Request.BodyReader, settings.MaxBodyBytes, context.RequestAborted);
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
