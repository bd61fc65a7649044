using Corral.Usage;

namespace Corral.Storage;

/// <summary>
/// The usage writer's connection to the store: one writer at a time, on one thread at a time. Each call is one
/// short transaction, so the write lock is never held for long.
/// </summary>
internal interface IUsageWriteSession : IDisposable
{
    /// <summary>Stores the records and adds them to their hourly rollups, in one transaction: all of them or none.</summary>
    void Write(IReadOnlyList<UsageRecord> records);

    /// <summary>Deletes at most <paramref name="limit"/> records that started before <paramref name="before"/>, the oldest first; returns how many.</summary>
    int DeleteRecordsBefore(DateTimeOffset before, int limit);

    /// <summary>Deletes the rollups of the oldest hour if it is before <paramref name="before"/>; returns how many rows.</summary>
    int DeleteOldestRollupHourBefore(DateTimeOffset before);
}
