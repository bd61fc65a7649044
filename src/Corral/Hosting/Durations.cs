using System.Globalization;

namespace Corral.Hosting;

/// <summary>How Corral writes a duration in its messages and headers: seconds or milliseconds, up to three decimals.</summary>
internal static class Durations
{
    /// <summary><c>2.5</c> for two and a half seconds.</summary>
    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// <c>0.412</c> for 412 microseconds: milliseconds to the microsecond, without trailing zeros. Written digit by
    /// digit, because it is on every answer (<c>X-Corral-Overhead-Ms</c>) and a custom number format costs several
    /// times as much.
    /// </summary>
    public static string Milliseconds(TimeSpan span)
    {
        var micros = span <= TimeSpan.Zero ? 0 : (span.Ticks + 5) / 10;
        Span<char> text = stackalloc char[32];
        (micros / 1000).TryFormat(text, out var length, default, CultureInfo.InvariantCulture);
        var fraction = (int)(micros % 1000);
        if (fraction != 0)
        {
            text[length++] = '.';
            text[length++] = (char)('0' + (fraction / 100));
            text[length++] = (char)('0' + (fraction / 10 % 10));
            text[length++] = (char)('0' + (fraction % 10));
            while (text[length - 1] == '0')
            {
                length--;
            }
        }

        return new string(text[..length]);
    }
}
