using System.Globalization;
using System.Runtime.CompilerServices;
using Corral.Storage;

namespace Corral.Usage;

/// <summary>
/// Answers a usage query: the requests of [from, to) added up per group. The whole hours of the range come from
/// the hourly rollups, the parts of an hour at either edge from the records themselves (so the answer is exact
/// to the millisecond while records are kept, and a range of months reads rollups only). Counters add up;
/// percentiles come from the merged histograms (<see cref="LogHistogram"/>: within 2.5%).
/// </summary>
internal sealed class UsageReport(IUsageStore store)
{
    // Ranges shorter than two days of hours per thread are read on one.
    private const long HoursPerPart = 48;

    /// <summary>
    /// The groups of [<paramref name="from"/>, <paramref name="to"/>): hours and days in time order, the others by
    /// requests, most first (ties by name, the unnamed last). With a <paramref name="bucket"/> (<see cref="UsageGrouping.Hour"/>
    /// or <see cref="UsageGrouping.Day"/>), a group per bucket and value, the buckets in time order.
    /// </summary>
    public async Task<IReadOnlyList<UsageGroup>> QueryAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, UsageGrouping? bucket, CancellationToken cancellationToken)
    {
        var groups = new Groups(grouping, bucket);
        var fromMs = from.ToUnixTimeMilliseconds();
        var toMs = to.ToUnixTimeMilliseconds();
        var firstHour = UsageHours.Ceiling(fromMs);
        var endHour = UsageHours.Floor(toMs);
        if (firstHour < endHour)
        {
            if (fromMs < firstHour)
            {
                await store.ReadUsageRecordsAsync(from, Time(firstHour), grouping, groups, cancellationToken);
            }

            await ReadRollupsAsync(firstHour, endHour, grouping, groups, cancellationToken);
            if (endHour < toMs)
            {
                await store.ReadUsageRecordsAsync(Time(endHour), to, grouping, groups, cancellationToken);
            }
        }
        else if (fromMs < toMs)
        {
            await store.ReadUsageRecordsAsync(from, to, grouping, groups, cancellationToken);
        }

        var names = grouping is UsageGrouping.Status or UsageGrouping.Hour or UsageGrouping.Day
            ? new Dictionary<long, string>()
            : await store.UsageNamesAsync([.. groups.Ids()], cancellationToken);
        return groups.Results(names);
    }

    private static DateTimeOffset Time(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);

    // A long range is read in parts on as many threads as there are cores (at most 4), each into its own groups,
    // added up after: a month of a busy fleet's rollups is about a million rows.
    private async Task ReadRollupsAsync(long firstHour, long endHour, UsageGrouping grouping, Groups groups, CancellationToken cancellationToken)
    {
        var hours = (endHour - firstHour) / UsageHours.HourMs;
        var parts = (int)Math.Min(Math.Min(Environment.ProcessorCount, 4), hours / HoursPerPart);
        if (parts <= 1)
        {
            await store.ReadUsageRollupsAsync(Time(firstHour), Time(endHour), grouping, groups, cancellationToken);
            return;
        }

        var partGroups = new Groups[parts];
        var reads = new Task[parts];
        for (var part = 0; part < parts; part++)
        {
            var start = firstHour + (hours * part / parts * UsageHours.HourMs);
            var end = part == parts - 1 ? endHour : firstHour + (hours * (part + 1) / parts * UsageHours.HourMs);
            partGroups[part] = groups.Empty();
            reads[part] = store.ReadUsageRollupsAsync(Time(start), Time(end), grouping, partGroups[part], cancellationToken);
        }

        await Task.WhenAll(reads);
        foreach (var part in partGroups)
        {
            groups.Merge(part);
        }
    }

    // Adds rows up per group (and per bucket of time, with one) as the store reads them.
    private sealed class Groups(UsageGrouping grouping, UsageGrouping? bucket) : IUsageSink
    {
        private readonly Dictionary<(long Bucket, long Id), Group> _groups = [];

        /// <summary>Groups of the same kind, for another part of the range.</summary>
        public Groups Empty() => new(grouping, bucket);

        // Called for every rollup row of the range: optimised at once, so the first query after start is not the slowest.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void AddRollup(long group, long detail, long time, long requests, long errors, long promptTokens, long completionTokens, long ttftCount, long ttftSumUs, ReadOnlySpan<byte> ttft, ReadOnlySpan<byte> duration) =>
            Of(Bucket(time), group, detail).Totals.Add(requests, errors, promptTokens, completionTokens, ttftCount, ttftSumUs, ttft, duration);

        public void AddRecord(long group, long detail, long time, int status, long promptTokens, long completionTokens, double? ttftMs, double durationMs) =>
            Of(Bucket(time), group, detail).Totals.Add(status, promptTokens, completionTokens, ttftMs, durationMs);

        /// <summary>Adds the groups of another part of the range.</summary>
        public void Merge(Groups other)
        {
            foreach (var ((time, id), group) in other._groups)
            {
                Of(time, id, group.Detail).Totals.Merge(group.Totals);
            }
        }

        public IEnumerable<long> Ids()
        {
            foreach (var group in _groups.Values)
            {
                yield return group.Id;
                if (group.Detail != 0)
                {
                    yield return group.Detail;
                }
            }
        }

        public List<UsageGroup> Results(IReadOnlyDictionary<long, string> names)
        {
            var results = new List<UsageGroup>(_groups.Count);
            foreach (var group in _groups.Values)
            {
                var totals = group.Totals;
                results.Add(new UsageGroup(
                    bucket is null ? null : IsoTime(group.Bucket),
                    Label(group.Id, names),
                    grouping == UsageGrouping.Key ? names.GetValueOrDefault(group.Detail) : null,
                    totals.Requests,
                    totals.Errors,
                    totals.PromptTokens,
                    totals.CompletionTokens,
                    Round(totals.Ttft.QuantileMilliseconds(0.5)),
                    Round(totals.Duration.QuantileMilliseconds(0.5)),
                    Round(totals.TtftMsAverage)));
            }

            if (grouping is UsageGrouping.Hour or UsageGrouping.Day)
            {
                results.Sort((a, b) => string.CompareOrdinal(a.Group, b.Group));
            }
            else
            {
                // Buckets in time order; in each, most requests first; among equals, by name, and requests without
                // one (no key, no backend) last.
                results.Sort((a, b) => a.Time != b.Time ? string.CompareOrdinal(a.Time, b.Time)
                    : a.Requests != b.Requests ? b.Requests.CompareTo(a.Requests)
                    : (a.Group is null) != (b.Group is null) ? (a.Group is null ? 1 : -1)
                    : string.CompareOrdinal(a.Group, b.Group));
            }

            return results;
        }

        private long Bucket(long time) => bucket switch
        {
            UsageGrouping.Hour => UsageHours.Floor(time),
            UsageGrouping.Day => UsageHours.FloorDay(time),
            _ => 0,
        };

        private Group Of(long bucketTime, long id, long detail)
        {
            id = grouping switch
            {
                UsageGrouping.Hour => UsageHours.Floor(id),
                UsageGrouping.Day => UsageHours.FloorDay(id),
                _ => id,
            };
            if (!_groups.TryGetValue((bucketTime, id), out var group))
            {
                group = new Group(bucketTime, id, detail);
                _groups.Add((bucketTime, id), group);
            }
            else if (group.Detail == 0)
            {
                group.Detail = detail;
            }

            return group;
        }

        private string? Label(long id, IReadOnlyDictionary<long, string> names) => grouping switch
        {
            UsageGrouping.Status => id.ToString(CultureInfo.InvariantCulture),
            UsageGrouping.Hour or UsageGrouping.Day => IsoTime(id),
            _ => names.GetValueOrDefault(id),
        };

        private static string IsoTime(long unixMs) => Time(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

        private static double? Round(double? value) => value is { } v ? Math.Round(v, 2) : null;
    }

    private sealed class Group(long bucket, long id, long detail)
    {
        public long Bucket { get; } = bucket;

        public long Id { get; } = id;

        public long Detail { get; set; } = detail;

        public UsageTotals Totals { get; } = new();
    }
}
