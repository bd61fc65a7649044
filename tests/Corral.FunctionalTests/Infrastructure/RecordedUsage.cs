using System.Collections.Concurrent;
using Corral.Usage;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>Every usage record a running Corral made, as its observers get them, for tests to compare with what the client saw.</summary>
internal sealed class RecordedUsage : IUsageObserver
{
    private readonly ConcurrentQueue<UsageRecord> _records = new();

    public IReadOnlyList<UsageRecord> Records => [.. _records];

    public void Observe(UsageRecord record) => _records.Enqueue(record);

    /// <summary>The records of <paramref name="route"/>, once there are <paramref name="count"/> of them (records are made as answers end).</summary>
    public async Task<UsageRecord[]> WaitForAsync(string route, int count = 1)
    {
        await Eventually.WaitUntilAsync(() => Of(route).Length >= count, $"{count} usage records of {route} were made");
        return Of(route);
    }

    /// <summary>The one record of <paramref name="route"/>.</summary>
    public async Task<UsageRecord> SingleAsync(string route)
    {
        var records = await WaitForAsync(route);
        records.Should().ContainSingle($"one request was sent to {route}");
        return records[0];
    }

    private UsageRecord[] Of(string route) => _records.Where(r => r.Route == route).ToArray();
}
