using BenchmarkDotNet.Attributes;
using Corral.Bench;
using Corral.Hosting;
using Corral.Storage;
using Corral.Usage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Benchmarks;

/// <summary>
/// The whole usage path of a request, amortised: <see cref="UsageWriter.Observe"/> on the request's thread, then the
/// background write of the batch into SQLite (WAL, synchronous=NORMAL; records, names and hourly rollups in one
/// transaction), as <see cref="UsageWriter.Flush"/> does every 250 ms. Batches of 10,000 records of 50,000 requests/s
/// of synthetic traffic (<see cref="SyntheticUsage"/>: 40 keys, 30 users, 24 models, 4 backends), so a batch touches
/// the rollup rows of the current hour as a live batch does. Reported per record. <c>ObserveOnly</c> is the part on
/// the request's thread (and the hand-over to a store that writes nothing).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10, invocationCount: 16)]
public class UsageWriteBenchmarks
{
    private const int Batch = 10_000;

    private string _folder = null!;
    private UsageRecord[] _records = null!;
    private UsageWriter _writer = null!;
    private UsageWriter _observer = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "corral-bench-usage-" + Guid.NewGuid().ToString("N"));
        var store = new SqliteStore(_folder);
        store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        var settings = new CorralSettings();
        _writer = new UsageWriter(store, settings, TimeProvider.System, NullLogger<UsageWriter>.Instance);
        _observer = new UsageWriter(new NothingStore(), settings, TimeProvider.System, NullLogger<UsageWriter>.Instance);

        // 20 seconds of traffic at 50,000 requests/s; cycled through, so every batch lands in the same hour's rollups.
        var traffic = new SyntheticUsage();
        var start = DateTimeOffset.UtcNow;
        _records = [.. Enumerable.Range(0, 1_000_000).Select(i => traffic.Next(start.AddTicks(i * (TimeSpan.TicksPerSecond / 50_000))))];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void ObserveAndWrite() => Run(_writer);

    [Benchmark(OperationsPerInvoke = Batch)]
    public void ObserveOnly() => Run(_observer);

    private void Run(UsageWriter writer)
    {
        for (var i = 0; i < Batch; i++)
        {
            writer.Observe(_records[_next]);
            _next = (_next + 1) % _records.Length;
        }

        writer.Flush();
    }

    private sealed class NothingStore : IUsageStore
    {
        public IUsageWriteSession OpenUsageWriter() => new NothingSession();

        public Task ReadUsageRollupsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ReadUsageRecordsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyDictionary<long, string>> UsageNamesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<long, string>>(new Dictionary<long, string>());

        public Task<IReadOnlyList<StoredUsageRecord>> ListUsageRecordsAsync(UsageRecordFilter filter, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<StoredUsageRecord>>([]);
    }

    private sealed class NothingSession : IUsageWriteSession
    {
        public void Write(IReadOnlyList<UsageRecord> records)
        {
        }

        public int DeleteRecordsBefore(DateTimeOffset before, int limit) => 0;

        public int DeleteOldestRollupHourBefore(DateTimeOffset before) => 0;

        public void Dispose()
        {
        }
    }
}
