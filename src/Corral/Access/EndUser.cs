namespace Corral.Access;

/// <summary>
/// The end user behind a shared key, for usage records. Open WebUI names its users in headers when its
/// <c>ENABLE_FORWARD_USER_INFO_HEADERS</c> is on; OpenAI clients send <c>user</c> in the body. Only a key an
/// admin allowed to name users (<c>assertsUsers</c>) is believed; from any other key both are ignored, so a user
/// key cannot bill someone else.
/// </summary>
internal static class EndUser
{
    /// <summary>Longer names are cut: the value comes from the client and ends up in the store and the logs.</summary>
    public const int MaxLength = 256;

    /// <summary>
    /// The user the request names: Open WebUI's email header, else its id, else its name; else the body's
    /// <paramref name="claimed"/> user. Null when the key may not name users or nobody is named.
    /// </summary>
    public static string? Of(HttpRequest request, Caller? caller, string? claimed)
    {
        if (caller is not { AssertsUsers: true })
        {
            return null;
        }

        var headers = request.Headers;
        var named = First(headers["X-OpenWebUI-User-Email"])
            ?? First(headers["X-OpenWebUI-User-Id"])
            // Open WebUI sends the name URL-quoted (Python's quote(name, safe=' ')).
            ?? (First(headers["X-OpenWebUI-User-Name"]) is { } name ? Uri.UnescapeDataString(name) : null)
            ?? (string.IsNullOrWhiteSpace(claimed) ? null : claimed.Trim());
        return named is { Length: > MaxLength } ? named[..MaxLength] : named;
    }

    private static string? First(Microsoft.Extensions.Primitives.StringValues values) =>
        values.Count > 0 && values[0] is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;
}
