namespace Corral.Storage;

/// <summary>
/// Which records <see cref="IUsageStore.ListUsageRecordsAsync"/> returns: started in [<see cref="From"/>,
/// <see cref="To"/>), of a key (its id or name), of a model (as asked or as resolved), at most <see cref="Limit"/>.
/// </summary>
internal sealed record UsageRecordFilter(DateTimeOffset From, DateTimeOffset To, string? Key, string? Model, int Limit);
