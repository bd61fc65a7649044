namespace Corral.Usage;

/// <summary>Whole UTC hours and days of unix times in milliseconds, the unit of rollups and of hour/day groups.</summary>
internal static class UsageHours
{
    public const long HourMs = 3_600_000;

    public const long DayMs = 24 * HourMs;

    /// <summary>The start of the hour <paramref name="unixMs"/> is in.</summary>
    public static long Floor(long unixMs) => unixMs - Mod(unixMs, HourMs);

    /// <summary>The start of the first hour that begins at or after <paramref name="unixMs"/>.</summary>
    public static long Ceiling(long unixMs) => Mod(unixMs, HourMs) == 0 ? unixMs : Floor(unixMs) + HourMs;

    /// <summary>The start of the UTC day <paramref name="unixMs"/> is in.</summary>
    public static long FloorDay(long unixMs) => unixMs - Mod(unixMs, DayMs);

    // A remainder that is never negative (times before 1970 are allowed in queries).
    private static long Mod(long value, long unit) => ((value % unit) + unit) % unit;
}
