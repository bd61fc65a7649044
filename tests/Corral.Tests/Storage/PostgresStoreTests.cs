using System.Collections.Concurrent;
using Corral.Access;
using Corral.Storage;
using Corral.Usage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Corral.Tests.Usage.UsageTestData;

namespace Corral.Tests.Storage;

/// <summary>
/// What only PostgreSQL does: several Corrals on one database (each a store of its own here) migrating, writing usage
/// and telling each other of changes at the same time.
/// </summary>
public sealed class PostgresStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_ten = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private readonly List<IAsyncDisposable> _disposables = [];
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        if (TestPostgres.SkipReason is null)
        {
            _database = await TestPostgres.CreateDatabaseAsync();
        }
    }

    public async Task DisposeAsync()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
        {
            await _disposables[i].DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [PostgresFact]
    public async Task Initialize_FourCorralsAtOnce_EachMigrationAppliedOnce()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => Store()).ToArray();
        using var start = new Barrier(stores.Length);

        await Task.WhenAll(stores.Select(store => Task.Run(async () =>
        {
            start.SignalAndWait();
            await store.InitializeAsync(CancellationToken.None);
        })));
        await stores[0].InitializeAsync(CancellationToken.None);

        (await _database.ScalarAsync("SELECT count(*) FROM corral_migrations;")).Should().Be((long)PostgresStore.SchemaVersion);
        (await _database.ScalarAsync("SELECT max(version) FROM corral_migrations;")).Should().Be(PostgresStore.SchemaVersion);
        (await _database.ScalarAsync("SELECT count(*) FROM corral_migrations WHERE applied_at IS NULL;")).Should().Be(0L);
    }

    [PostgresFact]
    public async Task Usage_TwoCorralsWritingAtOnce_TotalsAddUpExactly()
    {
        const int Batches = 40;
        const int PerBatch = 250;
        var first = await InitializedStoreAsync();
        var second = Store();
        using var a = first.OpenUsageWriter();
        using var b = second.OpenUsageWriter();
        using var start = new Barrier(2);

        // The same keys, models and hours from both, so that both write the same rollup groups and names at once; and
        // names new to both in every batch.
        void WriteAll(IUsageWriteSession session, int writer)
        {
            start.SignalAndWait();
            for (var batch = 0; batch < Batches; batch++)
            {
                var records = new UsageRecord[PerBatch];
                for (var i = 0; i < PerBatch; i++)
                {
                    var n = (batch * PerBatch) + i;
                    records[i] = Record(
                        s_ten.AddMilliseconds(n * 997L % (3 * 3_600_000)),
                        model: n % 3 == 0 ? "qwen3" : "llama3.2",
                        keyId: n % 2 == 0 ? "key_a" : "key_b",
                        user: $"user{batch % 7}-{i % 5}",
                        status: n % 10 == 0 ? 500 : 200,
                        promptTokens: writer + 1,
                        completionTokens: i % 4);
                }

                session.Write(records);
            }
        }

        await Task.WhenAll(Task.Run(() => WriteAll(a, 0)), Task.Run(() => WriteAll(b, 1)));

        ((PostgresUsageWriteSession)a).Slot.Should().NotBe(((PostgresUsageWriteSession)b).Slot);
        var report = new UsageReport(first);
        var total = Batches * PerBatch * 2;
        var byHour = await report.QueryAsync(s_ten, s_ten.AddHours(3), UsageGrouping.Hour, bucket: null, CancellationToken.None);
        byHour.Sum(g => g.Requests).Should().Be(total);
        byHour.Sum(g => g.Errors).Should().Be(total / 10);
        byHour.Sum(g => g.PromptTokens).Should().Be(Batches * PerBatch * (1 + 2));
        byHour.Sum(g => g.CompletionTokens).Should().Be(2L * Batches * Enumerable.Range(0, PerBatch).Sum(i => i % 4));
        // The same from the other Corral, and from the records themselves (a range within the hours reads records).
        (await new UsageReport(second).QueryAsync(s_ten, s_ten.AddHours(3), UsageGrouping.Key, bucket: null, CancellationToken.None)).Sum(g => g.Requests).Should().Be(total);
        (await report.QueryAsync(s_ten.AddMilliseconds(1), s_ten.AddHours(3), UsageGrouping.Model, bucket: null, CancellationToken.None)).Sum(g => g.Requests).Should().Be(total - 2, "the first millisecond's records are left out");
        (await first.ListUsageRecordsAsync(new UsageRecordFilter(s_ten, s_ten.AddHours(3), null, null, 100_000), CancellationToken.None)).Should().HaveCount(total);
        (await _database.ScalarAsync("SELECT count(DISTINCT name) = count(*) FROM usage_names;")).Should().Be(true);
        (await _database.ScalarAsync("SELECT count(DISTINCT writer) FROM usage_hourly;")).Should().Be(2L);
    }

    [PostgresFact]
    public async Task Changes_EachWriteToKeysOrBackendsOnOneCorral_HeardByTheOtherWithinTwoSeconds()
    {
        var writer = await InitializedStoreAsync();
        var other = Store();
        var (heard, _) = await ListeningAsync(other);
        var (heardByWriter, _) = await ListeningAsync(writer);
        var key = new StoredKey("key_n", "n", KeyRole.User, new byte[32], "corral_AAAA…", s_ten, null, null);

        async Task Expect(StoreTopic topic, Func<Task> change)
        {
            heard.Clear();
            await change();
            await Eventually.WaitUntilAsync(() => heard.Contains(topic), $"the other Corral heard of the change to {topic}", TimeSpan.FromSeconds(2));
        }

        await Expect(StoreTopic.Keys, () => writer.AddKeyAsync(key, CancellationToken.None));
        await Expect(StoreTopic.Keys, () => writer.UpdateKeyAsync(key with { Name = "renamed" }, CancellationToken.None));
        await Expect(StoreTopic.Keys, () => writer.RevokeKeyAsync(key.Id, s_ten.AddHours(1), CancellationToken.None));
        await Expect(StoreTopic.Backends, () => writer.SaveBackendAsync(new StoredBackend("gpu1", "{}", s_ten), CancellationToken.None));
        await Expect(StoreTopic.Backends, () => writer.DeleteBackendAsync("gpu1", CancellationToken.None));

        // Notifications arrive in the order of their commits: once the writer hears the other's change, it would have
        // heard its own five before, had it not skipped them.
        heardByWriter.Clear();
        await other.SaveBackendAsync(new StoredBackend("gpu2", "{}", s_ten), CancellationToken.None);
        await Eventually.WaitUntilAsync(() => heardByWriter.Contains(StoreTopic.Backends), "the writer heard of the other's change");
        heardByWriter.Snapshot().Should().Equal(StoreTopic.Backends);
    }

    [PostgresFact]
    public async Task Changes_NothingChanged_NothingSent()
    {
        var writer = await InitializedStoreAsync();
        var (heard, _) = await ListeningAsync(Store());
        heard.Clear();

        (await writer.RevokeKeyAsync("key_none", s_ten, CancellationToken.None)).Should().BeFalse();
        (await writer.DeleteBackendAsync("none", CancellationToken.None)).Should().BeFalse();
        await writer.SaveBackendAsync(new StoredBackend("gpu1", "{}", s_ten), CancellationToken.None);

        await Eventually.WaitUntilAsync(() => heard.Contains(StoreTopic.Backends), "the backend's change was heard");
        heard.Snapshot().Should().Equal(StoreTopic.Backends);
    }

    [PostgresFact]
    public async Task Listener_ItsConnectionKilled_ReconnectsRaisesEveryTopicAndHearsChangesAgain()
    {
        var writer = await InitializedStoreAsync();
        var (heard, listener) = await ListeningAsync(Store());
        var killed = listener.ServerProcessId;
        heard.Clear();

        await using (var admin = new NpgsqlConnection(_database.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand($"SELECT pg_terminate_backend({killed});", admin);
            (await terminate.ExecuteScalarAsync()).Should().Be(true);
        }

        await Eventually.WaitUntilAsync(
            () => listener.IsConnected && listener.ServerProcessId != killed && heard.Contains(StoreTopic.Keys) && heard.Contains(StoreTopic.Backends),
            "the listener connected again and raised both topics");
        heard.Clear();
        await writer.AddKeyAsync(new StoredKey("key_k", "k", KeyRole.User, new byte[32], "corral_AAAA…", s_ten, null, null), CancellationToken.None);
        await Eventually.WaitUntilAsync(() => heard.Contains(StoreTopic.Keys), "the change after the reconnection was heard", TimeSpan.FromSeconds(2));
    }

    [PostgresFact]
    public async Task Quota_Leases_TakeWholeUnitsOfWhatIsLeft_GiveBacksReturn_NewBucketsStartFull()
    {
        var store = await InitializedStoreAsync();
        // A day's window: the few milliseconds of the test refill nothing worth a unit.
        QuotaRequest Ask(double wanted, double giveBack = 0) => new("key_1", "requestsPerMinute", 10, TimeSpan.FromDays(1), wanted, giveBack);

        var first = await store.LeaseAsync(Ask(4), CancellationToken.None);
        var second = await store.LeaseAsync(Ask(4), CancellationToken.None);
        var third = await store.LeaseAsync(Ask(4), CancellationToken.None);
        var empty = await store.LeaseAsync(Ask(4), CancellationToken.None);
        var returned = await store.LeaseAsync(Ask(0, giveBack: 3), CancellationToken.None);

        (first.Taken, second.Taken, third.Taken, empty.Taken).Should().Be((4, 4, 2, 0));
        empty.Level.Should().BeApproximately(0, 0.01);
        returned.Level.Should().BeApproximately(3, 0.01);
        (await store.LeaseAsync(Ask(1, giveBack: -5), CancellationToken.None)).Should().Match<QuotaLease>(l => l.Taken == 0 && l.Level < -1.9, "a debt larger than what is left leaves nothing to lease");
        (await store.LeaseAsync(new QuotaRequest("key_2", "requestsPerMinute", 10, TimeSpan.FromDays(1), 4, 0), CancellationToken.None)).Taken.Should().Be(4, "another key's bucket starts full");
    }

    [PostgresFact]
    public async Task Quota_TwoCorralsLeasingAtOnce_NeverMoreThanTheBucketHolds()
    {
        var stores = new[] { await InitializedStoreAsync(), Store(), Store() };
        var request = new QuotaRequest("key_1", "requestsPerMinute", 500, TimeSpan.FromDays(1), 3, 0);

        var taken = await Task.WhenAll(stores.Select(store => Task.Run(async () =>
        {
            double sum = 0;
            for (var i = 0; i < 100; i++)
            {
                sum += (await store.LeaseAsync(request, CancellationToken.None)).Taken;
            }

            return sum;
        })));

        taken.Sum().Should().Be(500, "900 units were asked for, the bucket held 500");
    }

    private PostgresStore Store()
    {
        var store = new PostgresStore(_database.ConnectionString);
        _disposables.Add(new Disposal(store.Dispose));
        return store;
    }

    private async Task<PostgresStore> InitializedStoreAsync()
    {
        var store = Store();
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    // A listener on the store, started and connected; what it raised, in order.
    private async Task<(HeardTopics Heard, PostgresChangeListener Listener)> ListeningAsync(PostgresStore store)
    {
        var listener = new PostgresChangeListener(store, TimeProvider.System, NullLogger<PostgresChangeListener>.Instance);
        _disposables.Add(listener);
        var heard = new HeardTopics();
        listener.Changed += heard.Add;
        await listener.StartAsync(CancellationToken.None);
        await Eventually.WaitUntilAsync(() => listener.IsConnected && heard.Contains(StoreTopic.Backends), "the listener connected");
        return (heard, listener);
    }

    private sealed class Disposal(Action dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            dispose();
            return ValueTask.CompletedTask;
        }
    }

    // Topics as raised, from any thread.
    private sealed class HeardTopics
    {
        private readonly ConcurrentQueue<StoreTopic> _topics = new();

        public void Add(StoreTopic topic) => _topics.Enqueue(topic);

        public bool Contains(StoreTopic topic) => _topics.Contains(topic);

        public void Clear() => _topics.Clear();

        public IEnumerable<StoreTopic> Snapshot() => [.. _topics];
    }
}
