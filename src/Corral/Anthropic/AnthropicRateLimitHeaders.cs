using System.Globalization;
using Corral.Access;

namespace Corral.Anthropic;

/// <summary>
/// Anthropic's rate headers on <c>/v1/messages</c>: <c>anthropic-ratelimit-requests-limit</c>, <c>-remaining</c> and
/// <c>-reset</c> for a key with <c>requestsPerMinute</c>, and the <c>-tokens-</c> three for one with
/// <c>tokensPerMinute</c> (or, without it, <c>tokensPerDay</c>). Resets are times, as Anthropic writes them (RFC 3339, UTC).
/// </summary>
internal sealed class AnthropicRateLimitHeaders(TimeProvider time) : IRateLimitHeaders
{
    public void Write(IHeaderDictionary headers, RateStatus rates)
    {
        var now = time.GetUtcNow();
        if (rates.Requests is { } requests)
        {
            Write(headers, "requests", requests, now);
        }

        if ((rates.TokensPerMinute ?? rates.TokensPerDay) is { } tokens)
        {
            Write(headers, "tokens", tokens, now);
        }
    }

    private static void Write(IHeaderDictionary headers, string what, RateWindow window, DateTimeOffset now)
    {
        headers["anthropic-ratelimit-" + what + "-limit"] = window.Limit.ToString(CultureInfo.InvariantCulture);
        headers["anthropic-ratelimit-" + what + "-remaining"] = window.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["anthropic-ratelimit-" + what + "-reset"] = (now + window.Reset).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }
}
