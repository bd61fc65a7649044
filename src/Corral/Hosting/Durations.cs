using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Corral.Hosting;

/// <summary>How Corral writes a duration in its messages and headers: seconds or milliseconds, up to three decimals.</summary>
internal static class Durations
{
    /// <summary>The longest <see cref="Milliseconds(long, Span{byte})"/> writes.</summary>
    public const int MaxMillisecondsLength = 24;

    /// <summary><c>2.5</c> for two and a half seconds.</summary>
    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// <c>0.412</c> for 412 microseconds: milliseconds to the microsecond, without trailing zeros. Written digit by
    /// digit, because it is on every answer (<c>X-Corral-Overhead-Ms</c>) and a custom number format costs several
    /// times as much.
    /// </summary>
    public static string Milliseconds(TimeSpan span)
    {
        Span<byte> text = stackalloc byte[MaxMillisecondsLength];
        var length = Milliseconds(span <= TimeSpan.Zero ? 0 : (span.Ticks + 5) / 10, text);
        return Encoding.ASCII.GetString(text[..length]);
    }

    /// <summary>
    /// <paramref name="micros"/> (not negative) as milliseconds, <c>1253.88</c>, <c>0.012</c>, <c>0</c>, in ASCII
    /// into <paramref name="utf8"/> (at least <see cref="MaxMillisecondsLength"/> bytes); returns the length.
    /// </summary>
    public static int Milliseconds(long micros, Span<byte> utf8)
    {
        Utf8Formatter.TryFormat(micros / 1000, utf8, out var length);
        var fraction = (int)(micros % 1000);
        if (fraction != 0)
        {
            utf8[length++] = (byte)'.';
            utf8[length++] = (byte)('0' + (fraction / 100));
            utf8[length++] = (byte)('0' + (fraction / 10 % 10));
            utf8[length++] = (byte)('0' + (fraction % 10));
            while (utf8[length - 1] == '0')
            {
                length--;
            }
        }

        return length;
    }
}
