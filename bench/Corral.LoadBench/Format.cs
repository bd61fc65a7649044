using System.Globalization;

namespace Corral.LoadBench;

/// <summary>Numbers as they appear in the console and the Markdown tables.</summary>
internal static class Format
{
    public static string Us(double microseconds) => double.IsNaN(microseconds) ? "n/a" : Math.Abs(microseconds) switch
    {
        < 1_000 => string.Create(CultureInfo.InvariantCulture, $"{microseconds:0} µs"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1_000:0.00} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{microseconds / 1_000_000:0.00} s"),
    };

    public static string SignedUs(double? microseconds) => microseconds switch
    {
        null => "—",
        { } value when Math.Abs(value) < 0.5 => "0 µs",
        { } value => (value > 0 ? "+" : "−") + Us(Math.Abs(value)),
    };

    public static string Rate(double? perSecond) => perSecond is not { } value ? "—" : string.Create(CultureInfo.InvariantCulture, $"{value:#,0}");

    public static string Ratio(double? ratio) => ratio is not { } value ? "—" : string.Create(CultureInfo.InvariantCulture, $"{value:0.00}×");

    /// <summary>A count per request: two decimals below 10, one below 100, none above; "—" when not counted.</summary>
    public static string PerRequest(double? value) => value switch
    {
        null => "—",
        { } v when Math.Abs(v) < 10 => string.Create(CultureInfo.InvariantCulture, $"{v:0.00}"),
        { } v when Math.Abs(v) < 100 => string.Create(CultureInfo.InvariantCulture, $"{v:0.0}"),
        { } v => string.Create(CultureInfo.InvariantCulture, $"{v:#,0}"),
    };

    public static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0 / 1024.0:0.0} MB");

    public static string Ms(double milliseconds) => string.Create(CultureInfo.InvariantCulture, $"{milliseconds:0.00} ms");
}
