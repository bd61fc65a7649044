using System.Globalization;
using System.Text;
using Corral.Access;

namespace Corral.OpenAi;

/// <summary>
/// OpenAI's rate headers: <c>x-ratelimit-limit-requests</c>, <c>-remaining-requests</c>, <c>-reset-requests</c> for a
/// key with <c>requestsPerMinute</c>, and the <c>-tokens</c> three for one with <c>tokensPerMinute</c> (or, without
/// it, <c>tokensPerDay</c>). Resets are written as OpenAI writes them, Go durations: <c>1s</c>, <c>6m0s</c>, <c>120ms</c>.
/// </summary>
internal sealed class RateLimitHeaders : IRateLimitHeaders
{
    public static RateLimitHeaders Instance { get; } = new();

    public void Write(IHeaderDictionary headers, RateStatus rates)
    {
        if (rates.Requests is { } requests)
        {
            headers["x-ratelimit-limit-requests"] = Number(requests.Limit);
            headers["x-ratelimit-remaining-requests"] = Number(requests.Remaining);
            headers["x-ratelimit-reset-requests"] = GoDuration(requests.Reset);
        }

        if ((rates.TokensPerMinute ?? rates.TokensPerDay) is { } tokens)
        {
            headers["x-ratelimit-limit-tokens"] = Number(tokens.Limit);
            headers["x-ratelimit-remaining-tokens"] = Number(tokens.Remaining);
            headers["x-ratelimit-reset-tokens"] = GoDuration(tokens.Reset);
        }
    }

    /// <summary>A duration as Go's <c>time.Duration.String</c> writes it, to the millisecond: <c>0s</c>, <c>250ms</c>, <c>1.5s</c>, <c>6m0s</c>, <c>2h0m0s</c>.</summary>
    internal static string GoDuration(TimeSpan span)
    {
        var ms = (long)Math.Ceiling(Math.Max(0, span.TotalMilliseconds));
        if (ms == 0)
        {
            return "0s";
        }

        if (ms < 1000)
        {
            return Number(ms) + "ms";
        }

        var text = new StringBuilder();
        var hours = ms / 3_600_000;
        var minutes = ms / 60_000 % 60;
        if (hours > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{hours}h");
        }

        if (hours > 0 || minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{minutes}m");
        }

        var seconds = ms % 60_000 / 1000.0;
        text.Append(seconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('s');
        return text.ToString();
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
