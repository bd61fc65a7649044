using Microsoft.AspNetCore.Http.Features;

namespace Corral.Access;

/// <summary>
/// Keys in the path, for clients that can be given only a URL (<c>--key-in-path</c>): <c>/k/&lt;key&gt;/api/...</c>,
/// <c>/k/&lt;key&gt;/v1/...</c> and <c>/k/&lt;key&gt;/ollama/...</c> are served as the same path with
/// <c>Authorization: Bearer &lt;key&gt;</c>. Runs before routing, and takes the key out of the path, the raw target and
/// anything later stages could log. <see cref="KeyInPath.Mask"/> hides such a segment wherever a path is put into words,
/// with the option on or off.
/// </summary>
internal sealed class KeyInPathMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/k", StringComparison.Ordinal, out var rest) && rest.HasValue && rest.Value!.Length > 1)
        {
            var value = rest.Value!;
            var end = value.IndexOf('/', 1);
            var key = end < 0 ? value[1..] : value[1..end];
            request.Path = end < 0 ? "/" : value[end..];
            request.Headers.Authorization = "Bearer " + key;
            if (context.Features.Get<IHttpRequestFeature>() is { } feature)
            {
                // The raw target keeps the client's own spelling of the rest (blob digests are forwarded from it).
                feature.RawTarget = KeyInPath.WithoutKey(feature.RawTarget);
            }
        }

        return next(context);
    }
}

/// <summary>The rules of a key in the path, shared by the middleware and whatever writes a path into words.</summary>
internal static class KeyInPath
{
    private const string Marker = "/k/";

    /// <summary>The path with a leading <c>/k/&lt;key&gt;</c> written as <c>/k/…</c>, so no message, log or record holds the key.</summary>
    public static string Mask(string path)
    {
        if (!path.StartsWith(Marker, StringComparison.Ordinal) || path.Length == Marker.Length)
        {
            return path;
        }

        var end = path.IndexOf('/', Marker.Length);
        return Marker + "…" + (end < 0 ? string.Empty : path[end..]);
    }

    /// <summary>A raw target without its leading <c>/k/&lt;key&gt;</c> (the rest as the client wrote it).</summary>
    public static string WithoutKey(string rawTarget)
    {
        if (!rawTarget.StartsWith(Marker, StringComparison.Ordinal))
        {
            return rawTarget;
        }

        var end = rawTarget.IndexOfAny(['/', '?'], Marker.Length);
        return end < 0 ? "/" : rawTarget[end] == '?' ? "/" + rawTarget[end..] : rawTarget[end..];
    }
}
