using System.Globalization;

namespace Corral.Hosting;

/// <summary>How Corral writes a duration in its messages and headers: seconds or milliseconds, up to three decimals.</summary>
internal static class Durations
{
    /// <summary><c>2.5</c> for two and a half seconds.</summary>
    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary><c>0.412</c> for 412 microseconds.</summary>
    public static string Milliseconds(TimeSpan span) => span.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture);
}
