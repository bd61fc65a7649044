namespace Corral.Hosting;

/// <summary>Parses backend URLs strictly, with an explanation that says how to fix a bad one.</summary>
internal static class BackendUrl
{
    /// <summary>Parses <paramref name="text"/> as an http(s) base URL; on failure returns null and an explanation.</summary>
    public static Uri? TryParse(string text, out string? problem)
    {
        problem = null;
        var trimmed = text.Trim().Trim('"', '\'');
        if (trimmed.Length == 0)
        {
            problem = "the URL is empty";
            return null;
        }

        if (!trimmed.Contains("://", StringComparison.Ordinal))
        {
            problem = $"'{trimmed}' has no scheme; did you mean http://{trimmed}?";
            return null;
        }

        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            problem = $"'{trimmed}' is not a valid URL";
            return null;
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            problem = $"'{trimmed}' uses the scheme '{uri.Scheme}'; only http and https are supported";
            return null;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            problem = $"'{trimmed}' carries credentials in the URL; use the backend's \"key\" instead";
            return null;
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            problem = $"'{trimmed}' has a query or fragment; give only the base URL of the Ollama server";
            return null;
        }

        // Keep a path prefix (an Ollama behind a reverse proxy at /ollama) but drop the trailing slash,
        // so "{base}{/api/...}" never doubles it.
        var normalized = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri(normalized, UriKind.Absolute);
    }

    /// <summary>A readable default name for a backend given only as a URL: its host and port.</summary>
    public static string DefaultName(Uri url) => $"{url.DnsSafeHost}:{url.Port}";
}
