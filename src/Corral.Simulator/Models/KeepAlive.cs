using System.Globalization;
using System.Text.Json;
using Corral.Simulator.Http;

namespace Corral.Simulator.Models;

/// <summary>Ollama's <c>keep_alive</c> (api.Duration): a number of seconds or a Go duration string; negative means forever.</summary>
internal static class KeepAlive
{
    /// <summary>What Ollama uses for "forever": time.Duration(math.MaxInt64).</summary>
    public static readonly TimeSpan Forever = TimeSpan.FromTicks(long.MaxValue / 100);

    /// <summary>Parses a JSON keep_alive value; false with a Go-style message when it is invalid.</summary>
    public static bool TryParse(JsonElement value, out TimeSpan duration, out string error)
    {
        duration = TimeSpan.Zero;
        error = string.Empty;
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                var seconds = value.GetDouble();
                duration = seconds < 0 ? Forever : TimeSpan.FromTicks((long)Math.Min(seconds * TimeSpan.TicksPerSecond, Forever.Ticks));
                return true;
            case JsonValueKind.String:
                var text = value.GetString() ?? string.Empty;
                if (!TryParseGoDuration(text, out duration, out error))
                {
                    return false;
                }

                if (duration < TimeSpan.Zero)
                {
                    duration = Forever;
                }

                return true;
            case JsonValueKind.True or JsonValueKind.False:
                error = "Unsupported type: 'bool'";
                return false;
            default:
                error = $"Unsupported type: '{(value.ValueKind == JsonValueKind.Array ? "[]interface {}" : "map[string]interface {}")}'";
                return false;
        }
    }

    /// <summary>Go's time.ParseDuration: e.g. "300ms", "-1.5h", "2h45m"; units ns, us, µs, ms, s, m, h.</summary>
    public static bool TryParseGoDuration(string text, out TimeSpan duration, out string error)
    {
        duration = TimeSpan.Zero;
        error = string.Empty;
        var s = text;
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s == "0")
        {
            return true;
        }

        if (s.Length == 0)
        {
            error = $"time: invalid duration {GoText.Quote(text)}";
            return false;
        }

        decimal totalNs = 0;
        while (s.Length > 0)
        {
            var i = 0;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == 0 || !decimal.TryParse(s[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"time: invalid duration {GoText.Quote(text)}";
                return false;
            }

            s = s[i..];
            var u = 0;
            while (u < s.Length && !char.IsAsciiDigit(s[u]) && s[u] != '.')
            {
                u++;
            }

            if (u == 0)
            {
                error = $"time: missing unit in duration {GoText.Quote(text)}";
                return false;
            }

            var unit = s[..u];
            s = s[u..];
            decimal? nanos = unit switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => null,
            };
            if (nanos is null)
            {
                error = $"time: unknown unit {GoText.Quote(unit)} in duration {GoText.Quote(text)}";
                return false;
            }

            totalNs += number * nanos.Value;
            if (totalNs > long.MaxValue)
            {
                error = $"time: invalid duration {GoText.Quote(text)}";
                return false;
            }
        }

        var ticks = (long)(totalNs / 100);
        duration = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }
}
