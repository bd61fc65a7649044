using System.Text.RegularExpressions;

namespace Corral.Native;

/// <summary>
/// The digest of <c>/api/blobs/:digest</c>, checked as Ollama checks it (<c>sha256:</c> or <c>sha256-</c>, then 64 hex
/// digits; anything else is 400 <c>invalid digest format</c>) before any backend is called, and forwarded as the
/// client wrote it: the path segment as it was sent, never decoded and encoded again.
/// </summary>
internal static partial class BlobDigest
{
    /// <summary>Ollama's words for a malformed digest.</summary>
    public const string Invalid = "invalid digest format";

    private const string Route = "/api/blobs/";

    public static bool IsValid(string digest) => Pattern().IsMatch(digest);

    /// <summary>The backend path for the request: <c>/api/blobs/</c> and the digest segment exactly as the client sent it.</summary>
    public static string UpstreamPath(HttpContext context, string digest)
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var path = query < 0 ? raw : raw[..query];
        var at = path.LastIndexOf(Route, StringComparison.OrdinalIgnoreCase);
        // A valid digest holds only letters, digits, ':' and '-', so the raw segment can only differ by percent-escapes.
        return at < 0 ? Route + digest : Route + path[(at + Route.Length)..];
    }

    [GeneratedRegex("^sha256[:-][0-9a-fA-F]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
