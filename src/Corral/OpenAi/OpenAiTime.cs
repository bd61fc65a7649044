using System.Globalization;

namespace Corral.OpenAi;

/// <summary>Ollama's <c>created_at</c> (RFC 3339 with up to nanoseconds) as the unix seconds OpenAI uses.</summary>
internal static class OpenAiTime
{
    /// <summary>Unix seconds of <paramref name="createdAt"/>, or null when it is missing, zero or unreadable.</summary>
    public static long? UnixSeconds(ReadOnlySpan<char> createdAt)
    {
        if (createdAt.IsEmpty)
        {
            return null;
        }

        // .NET reads at most 7 fractional digits; Go writes up to 9. Seconds are all OpenAI needs.
        Span<char> trimmed = stackalloc char[createdAt.Length];
        var length = 0;
        var inFraction = false;
        var digits = 0;
        foreach (var c in createdAt)
        {
            if (c == '.')
            {
                inFraction = true;
                digits = 0;
            }
            else if (inFraction && char.IsAsciiDigit(c))
            {
                if (++digits > 7)
                {
                    continue;
                }
            }
            else
            {
                inFraction = false;
            }

            trimmed[length++] = c;
        }

        if (!DateTimeOffset.TryParse(trimmed[..length], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) || time.Year <= 1)
        {
            return null;
        }

        return time.ToUnixTimeSeconds();
    }
}
