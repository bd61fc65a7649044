namespace Corral.Forwarding;

/// <summary>
/// The headers of every streamed answer (NDJSON lines, SSE frames), for the proxies people put in front of Corral:
/// <c>X-Accel-Buffering: no</c> makes nginx pass each chunk on as it comes even where <c>proxy_buffering</c> is on,
/// and <c>Cache-Control: no-cache</c> keeps caches and tunnels (Cloudflare's among them) from holding the answer back.
/// </summary>
internal static class StreamHeaders
{
    public static void Apply(HttpResponse response)
    {
        response.Headers["X-Accel-Buffering"] = "no";
        response.Headers.CacheControl = "no-cache";
    }
}
