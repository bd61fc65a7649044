using Corral.Usage;

namespace Corral.Storage;

/// <summary>
/// Where usage records and their hourly rollups live (see Storage/README.md). The store keeps rows and reads them
/// back; adding rollups up, merging histograms and choosing what comes from rollups or from records is done by
/// the caller (<see cref="UsageReport"/>), the same for every store.
/// </summary>
internal interface IUsageStore
{
    /// <summary>Opens the one session the usage writer writes through (its statements prepared once, reused for every batch).</summary>
    IUsageWriteSession OpenUsageWriter();

    /// <summary>
    /// Gives <paramref name="sink"/> every hourly rollup of the hours in [<paramref name="from"/>, <paramref name="to"/>)
    /// (both whole hours), with the value of <paramref name="grouping"/>'s column.
    /// </summary>
    Task ReadUsageRollupsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken);

    /// <summary>Gives <paramref name="sink"/> every record that started in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    Task ReadUsageRecordsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken);

    /// <summary>The names behind the ids a sink was given (ids without a name are left out).</summary>
    Task<IReadOnlyDictionary<long, string>> UsageNamesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>Records matching <paramref name="filter"/>, newest first.</summary>
    Task<IReadOnlyList<StoredUsageRecord>> ListUsageRecordsAsync(UsageRecordFilter filter, CancellationToken cancellationToken);
}
