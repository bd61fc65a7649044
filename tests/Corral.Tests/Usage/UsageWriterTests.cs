using Corral.Hosting;
using Corral.Storage;
using Corral.Tests.Infrastructure;
using Corral.Usage;
using Microsoft.Extensions.Logging;
using static Corral.Tests.Usage.UsageTestData;

namespace Corral.Tests.Usage;

public sealed class UsageWriterTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 1, 10, 30, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(s_now);
    private readonly RecordingLogger<UsageWriter> _log = new();
    private TemporaryStore _store = null!;

    public async Task InitializeAsync() => _store = await TemporaryStore.CreateAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task Flush_ObservedRecords_StoredAndLagBackToZero()
    {
        await using var writer = Writer();
        // Two requests that ended a second apart, the older one (it ran 100 ms) at the clock's "now".
        writer.Observe(Record(s_now.AddMilliseconds(-100)));
        writer.Observe(Record(s_now.AddSeconds(1).AddMilliseconds(-100)));
        _time.Advance(TimeSpan.FromSeconds(2));

        writer.WriteLag.Should().Be(TimeSpan.FromSeconds(2), "the oldest record not yet written ended two seconds ago");
        writer.Pending.Should().Be(2);

        writer.Flush().Should().BeTrue();

        writer.WriteLag.Should().Be(TimeSpan.Zero);
        (writer.Pending, writer.Written, writer.Dropped).Should().Be((0, 2L, 0L));
        (await _store.ListAsync(s_now.AddMinutes(-1), s_now.AddMinutes(1))).Should().HaveCount(2);
    }

    [Fact]
    public async Task Observe_BufferFull_DroppedCountedAndLoggedWithTheCount()
    {
        var writer = Writer(capacity: 3);
        for (var i = 0; i < 5; i++)
        {
            writer.Observe(Record(s_now));
        }

        (writer.Pending, writer.Dropped).Should().Be((3, 2L));

        await writer.StartAsync(CancellationToken.None);
        await writer.StopAsync(CancellationToken.None);
        await writer.DisposeAsync();

        writer.Written.Should().Be(3);
        _log.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Contain("2 usage records dropped").And.Contain("buffer of 3 records");
    }

    [Fact]
    public async Task Tick_StoreFailing_RetriedWithDoublingBackoffUntilItWorksAndNothingLost()
    {
        var store = new FailingUsageStore(_store.Store, _time) { Failing = true };
        await using var writer = Writer(store);
        for (var i = 0; i < 10; i++)
        {
            writer.Observe(Record(s_now));
        }

        // The loop's ticks, every 250 ms, for 4 seconds.
        for (var tick = 0; tick < 16; tick++)
        {
            _time.Advance(UsageWriter.FlushInterval);
            writer.Tick();
        }

        store.Attempts.Select(t => (t - s_now).TotalMilliseconds).Should().Equal(250, 500, 1000, 2000, 4000);
        (writer.Written, writer.Pending).Should().Be((0L, 10));
        _log.At(LogLevel.Error).Should().HaveCount(5).And.AllSatisfy(m => m.Should().Contain("10 records buffered"));

        store.Failing = false;
        _time.Advance(TimeSpan.FromSeconds(8));
        writer.Tick();

        writer.Written.Should().Be(10);
        (await _store.ListAsync(s_now.AddMinutes(-1), s_now.AddMinutes(1))).Should().HaveCount(10);
        _log.At(LogLevel.Information).Should().ContainSingle().Which.Should().Contain("written again after 5 failed attempts");
    }

    [Fact]
    public async Task Loop_Running_WritesEveryFlushInterval()
    {
        await using var writer = Writer();
        await writer.StartAsync(CancellationToken.None);
        writer.Observe(Record(s_now));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (writer.Written == 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the loop writes once the fake clock passes a tick");
            _time.Advance(UsageWriter.FlushInterval);
            await Task.Yield();
        }

        (await _store.ListAsync(s_now.AddMinutes(-1), s_now.AddMinutes(1))).Should().ContainSingle();
    }

    [Fact]
    public async Task Prune_RecordsPastRetention_GoneInChunksWhileRollupsStay()
    {
        var settings = new CorralSettings { UsageRetention = TimeSpan.FromDays(30) };
        await using var writer = Writer(settings: settings);
        var oldHour = new DateTimeOffset(2026, 10, 1, 10, 0, 0, TimeSpan.Zero);
        var ancientHour = new DateTimeOffset(2025, 10, 1, 10, 0, 0, TimeSpan.Zero);
        var old = Enumerable.Range(0, UsageWriter.PruneChunk + 10).Select(i => Record(oldHour.AddMilliseconds(i))).ToArray();
        _store.Write(old);
        _store.Write(Record(ancientHour), Record(s_now.AddDays(-29)), Record(s_now.AddMinutes(-1)));

        writer.Prune(TimeSpan.FromMinutes(1)).Should().BeTrue();

        (await _store.ListAsync(ancientHour, s_now, limit: 10_000)).Select(r => r.Time).Should().Equal(s_now.AddMinutes(-1), s_now.AddDays(-29));
        (await _store.QueryAsync(oldHour, oldHour.AddHours(1))).Single().Requests.Should().Be(old.Length, "rollups are kept 400 days");
        (await _store.QueryAsync(ancientHour, ancientHour.AddHours(1))).Should().BeEmpty("older than 400 days");
    }

    [Fact]
    public async Task Prune_RetentionZero_KeepsEverything()
    {
        await using var writer = Writer(settings: new CorralSettings { UsageRetention = TimeSpan.Zero });
        var ancient = s_now.AddYears(-3);
        _store.Write(Record(ancient));

        writer.Prune(TimeSpan.FromMinutes(1)).Should().BeTrue();

        (await _store.ListAsync(ancient, s_now)).Should().ContainSingle();
    }

    [Fact]
    public async Task StopAsync_RecordsStillBuffered_AllWritten()
    {
        var writer = Writer();
        await writer.StartAsync(CancellationToken.None);
        var records = Enumerable.Range(0, UsageWriter.MaxBatch + 5).Select(i => Record(s_now.AddMilliseconds(-i))).ToArray();
        foreach (var record in records)
        {
            writer.Observe(record);
        }

        await writer.StopAsync(CancellationToken.None);
        writer.Observe(Record(s_now.AddSeconds(1)));
        await writer.DisposeAsync();

        (await _store.ListAsync(s_now.AddMinutes(-1), s_now.AddMinutes(1), limit: 20_000)).Should().HaveCount(records.Length + 1);
    }

    private UsageWriter Writer(IUsageStore? store = null, CorralSettings? settings = null, int capacity = UsageWriter.DefaultCapacity) =>
        new(store ?? _store.Store, settings ?? new CorralSettings(), _time, _log, capacity);

    /// <summary>A store whose writes fail while <see cref="Failing"/> is set.</summary>
    private sealed class FailingUsageStore(IUsageStore inner, TimeProvider time) : IUsageStore
    {
        private readonly List<DateTimeOffset> _attempts = [];

        public bool Failing { get; set; }

        /// <summary>When each write was attempted.</summary>
        public IReadOnlyList<DateTimeOffset> Attempts => _attempts;

        public IUsageWriteSession OpenUsageWriter() => new Session(this, time, inner.OpenUsageWriter());

        public Task ReadUsageRollupsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken) =>
            inner.ReadUsageRollupsAsync(from, to, grouping, sink, cancellationToken);

        public Task ReadUsageRecordsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken) =>
            inner.ReadUsageRecordsAsync(from, to, grouping, sink, cancellationToken);

        public Task<IReadOnlyDictionary<long, string>> UsageNamesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken) =>
            inner.UsageNamesAsync(ids, cancellationToken);

        public Task<IReadOnlyList<StoredUsageRecord>> ListUsageRecordsAsync(UsageRecordFilter filter, CancellationToken cancellationToken) =>
            inner.ListUsageRecordsAsync(filter, cancellationToken);

        private sealed class Session(FailingUsageStore owner, TimeProvider time, IUsageWriteSession inner) : IUsageWriteSession
        {
            public void Write(IReadOnlyList<UsageRecord> records)
            {
                owner._attempts.Add(time.GetUtcNow());
                if (owner.Failing)
                {
                    throw new IOException("disk full");
                }

                inner.Write(records);
            }

            public int DeleteRecordsBefore(DateTimeOffset before, int limit) => inner.DeleteRecordsBefore(before, limit);

            public int DeleteOldestRollupHourBefore(DateTimeOffset before) => inner.DeleteOldestRollupHourBefore(before);

            public void Dispose() => inner.Dispose();
        }
    }
}
