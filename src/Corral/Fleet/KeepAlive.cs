using System.Globalization;
using System.Text.Json;

namespace Corral.Fleet;

/// <summary>
/// Ollama's <c>keep_alive</c>: how long a model stays in memory after a request. A number is seconds, a string is
/// a Go duration (<c>"5m"</c>, <c>"1h30m"</c>, <c>"-1"</c>); negative means for ever, zero unloads at once.
/// </summary>
internal static class KeepAlive
{
    /// <summary>Ollama's default (OLLAMA_KEEP_ALIVE).</summary>
    public static readonly TimeSpan Default = TimeSpan.FromMinutes(5);

    /// <summary>When a model used with <paramref name="keepAlive"/> at <paramref name="now"/> leaves memory.</summary>
    public static DateTimeOffset Until(TimeSpan? keepAlive, DateTimeOffset now)
    {
        var span = keepAlive ?? Default;
        return span < TimeSpan.Zero ? DateTimeOffset.MaxValue : now + span;
    }

    /// <summary>Reads the value the reader is on; null when it is neither a number nor a duration.</summary>
    public static TimeSpan? Read(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetDouble(out var seconds) => FromSeconds(seconds),
        JsonTokenType.String => Parse(reader.GetString()),
        _ => null,
    };

    /// <summary>Parses a Go duration such as <c>"5m"</c>, <c>"1h30m"</c>, <c>"250ms"</c>; a bare number is seconds.</summary>
    public static TimeSpan? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var bare))
        {
            return FromSeconds(bare);
        }

        var negative = text.StartsWith('-');
        var rest = text.AsSpan(negative || text.StartsWith('+') ? 1 : 0);
        double total = 0;
        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !double.TryParse(rest[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            rest = rest[digits..];
            var unit = 0;
            while (unit < rest.Length && !char.IsAsciiDigit(rest[unit]) && rest[unit] != '.')
            {
                unit++;
            }

            double? scale = rest[..unit] switch
            {
                "h" => 3600,
                "m" => 60,
                "s" => 1,
                "ms" => 1e-3,
                "us" or "µs" => 1e-6,
                "ns" => 1e-9,
                _ => null,
            };
            if (scale is null)
            {
                return null;
            }

            total += value * scale.Value;
            rest = rest[unit..];
        }

        return FromSeconds(negative ? -total : total);
    }

    private static TimeSpan? FromSeconds(double seconds) =>
        double.IsFinite(seconds) && Math.Abs(seconds) < TimeSpan.MaxValue.TotalSeconds / 2 ? TimeSpan.FromSeconds(seconds) : null;
}
