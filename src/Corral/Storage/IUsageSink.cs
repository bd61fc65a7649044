namespace Corral.Storage;

/// <summary>
/// Takes usage rows as a store reads them, one call per row (no row object). <c>group</c> is the value of the
/// grouping's column: a name id for key, user, model, backend and route (0 when the record had none; resolve with
/// <see cref="IUsageStore.UsageNamesAsync"/>), the status for status, the unix time in milliseconds for hour and
/// day (of the hour for a rollup, of the start for a record). <c>detail</c> is the key's name id when grouping by
/// key, else 0. <c>time</c> is the unix time in milliseconds of the rollup's hour or of the record's start, whatever
/// the grouping (for usage over time by a group).
/// </summary>
internal interface IUsageSink
{
    /// <summary>One hourly rollup: its histograms as stored (<see cref="Usage.LogHistogram.Encode"/>), and the count and sum (µs) of its times to first byte.</summary>
    void AddRollup(long group, long detail, long time, long requests, long errors, long promptTokens, long completionTokens, long ttftCount, long ttftSumUs, ReadOnlySpan<byte> ttft, ReadOnlySpan<byte> duration);

    /// <summary>One record.</summary>
    void AddRecord(long group, long detail, long time, int status, long promptTokens, long completionTokens, double? ttftMs, double durationMs);
}
