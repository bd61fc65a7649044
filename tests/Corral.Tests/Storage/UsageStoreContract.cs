using Corral.Storage;
using Corral.Tests.Usage;
using Corral.Usage;
using static Corral.Tests.Usage.UsageTestData;

namespace Corral.Tests.Storage;

/// <summary>What every usage store must do, whichever database holds it; each store's tests derive from this.</summary>
public abstract class UsageStoreContract : IAsyncLifetime
{
    private protected static readonly DateTimeOffset s_ten = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private IUsageStore _store = null!;

    internal IUsageStore Store => _store;

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public abstract Task DisposeAsync();

    /// <summary>A store with its schema in place.</summary>
    internal abstract Task<IUsageStore> CreateStoreAsync();

    [StoreFact]
    public async Task Write_EveryField_ReadBackAsRecorded()
    {
        var record = new UsageRecord
        {
            Time = s_ten.AddMilliseconds(1234),
            KeyId = "key_1",
            KeyName = "open-webui",
            User = "ada@example.com",
            Route = "/v1/chat/completions",
            Model = "llama3.2",
            ResolvedModel = "big.llama3.2:latest",
            Backend = "gpu2",
            Status = 502,
            Error = "backend 'gpu2' failed: connection reset, \"twice\"",
            PromptTokens = 11,
            CompletionTokens = 22,
            QueueMs = 1.5,
            TtftMs = 250.125,
            DurationMs = 1000.25,
            OverheadMs = 0.375,
            BytesIn = 123,
            BytesOut = 4567,
            Attempts = 2,
            Cancelled = true,
            FailedOver = ["gpu1"],
        };
        Write(record);

        var stored = (await ListAsync(s_ten, s_ten.AddHours(1))).Should().ContainSingle().Subject;

        stored.Should().Be(new StoredUsageRecord(
            s_ten.AddMilliseconds(1234), "key_1", "open-webui", "ada@example.com", "/v1/chat/completions", "llama3.2",
            "big.llama3.2:latest", "gpu2", 502, "backend 'gpu2' failed: connection reset, \"twice\"", 11, 22, 1.5, 250.125,
            1000.25, 0.375, 123, 4567, 2, true));
    }

    [StoreFact]
    public async Task Write_NoKeyNoModelNoBackend_NullsReadBack()
    {
        Write(Record(s_ten, model: null, status: 401, keyId: null, keyName: null, backend: null, ttftMs: null));

        var stored = (await ListAsync(s_ten, s_ten.AddHours(1))).Single();

        (stored.KeyId, stored.KeyName, stored.Model, stored.ResolvedModel, stored.Backend, stored.TtftMs, stored.Status)
            .Should().Be((null, null, null, null, null, null, 401));
    }

    [StoreFact]
    public async Task ListUsageRecords_Filters_KeyByIdOrNameModelAsAskedOrResolvedNewestFirstUpToLimit()
    {
        Write(
            Record(s_ten.AddMinutes(1), keyId: "key_a", keyName: "laptop", model: "llama3.2"),
            Record(s_ten.AddMinutes(2), keyId: "key_b", keyName: "n8n", model: "qwen3"),
            Record(s_ten.AddMinutes(3), keyId: "key_a", keyName: "laptop", model: "qwen3"),
            Record(s_ten.AddMinutes(4), keyId: "key_a", keyName: "laptop", model: "llama3.2"));
        var end = s_ten.AddHours(1);

        (await ListAsync(s_ten, end)).Select(r => r.Time.Minute).Should().Equal(4, 3, 2, 1);
        (await ListAsync(s_ten, end, key: "key_a")).Select(r => r.Time.Minute).Should().Equal(4, 3, 1);
        (await ListAsync(s_ten, end, key: "n8n")).Select(r => r.Time.Minute).Should().Equal(2);
        (await ListAsync(s_ten, end, model: "qwen3:latest")).Select(r => r.Time.Minute).Should().Equal(3, 2);
        (await ListAsync(s_ten, end, key: "laptop", model: "llama3.2")).Select(r => r.Time.Minute).Should().Equal(4, 1);
        (await ListAsync(s_ten, end, limit: 2)).Select(r => r.Time.Minute).Should().Equal(4, 3);
        (await ListAsync(s_ten.AddMinutes(2), s_ten.AddMinutes(4))).Select(r => r.Time.Minute).Should().Equal(3, 2);
        (await ListAsync(s_ten, end, key: "nobody")).Should().BeEmpty();
    }

    [StoreFact]
    public async Task Query_WholeHours_FromRollupsMergedAcrossBatches()
    {
        Write(Record(s_ten.AddMinutes(5), status: 200, promptTokens: 1, completionTokens: 2));
        Write(Record(s_ten.AddMinutes(6), status: 500, promptTokens: 10, completionTokens: 20), Record(s_ten.AddMinutes(50), model: "qwen3"));
        Write(Record(s_ten.AddMinutes(70), status: 200));
        // The records go; the rollups stay: whole hours are answered from the rollups alone.
        using (var session = Store.OpenUsageWriter())
        {
            session.DeleteRecordsBefore(s_ten.AddDays(1), 1000).Should().Be(4);
        }

        var groups = await QueryAsync(s_ten, s_ten.AddHours(2));

        groups.Select(g => (g.Group, g.Requests, g.Errors, g.PromptTokens, g.CompletionTokens, g.TotalTokens)).Should().Equal(
            ("llama3.2:latest", 3L, 1L, 14L, 29L, 43L),
            ("qwen3:latest", 1L, 0L, 3L, 7L, 10L));
        groups[0].TtftMsP50!.Value.Should().BeApproximately(10, 0.25);
        groups[0].DurationMsP50!.Value.Should().BeApproximately(100, 2.5);
        (await QueryAsync(s_ten.AddMinutes(1), s_ten.AddMinutes(59))).Should().BeEmpty("parts of hours come from the records");
    }

    [StoreFact]
    public async Task Query_PartsOfHoursAtTheEdges_FromRecordsToTheMillisecond()
    {
        Write(
            Record(s_ten.AddMinutes(15)),
            Record(s_ten.AddMinutes(45)),
            Record(s_ten.AddMinutes(90)),
            Record(s_ten.AddMinutes(125)),
            Record(s_ten.AddMinutes(130)));

        (await QueryAsync(s_ten.AddMinutes(30), s_ten.AddMinutes(126))).Single().Requests.Should().Be(3);
        (await QueryAsync(s_ten.AddMinutes(45), s_ten.AddMinutes(125))).Single().Requests.Should().Be(2, "from is inclusive, to is not");
        (await QueryAsync(s_ten.AddMinutes(45).AddMilliseconds(1), s_ten.AddMinutes(130).AddMilliseconds(1))).Single().Requests.Should().Be(3);
        (await QueryAsync(s_ten.AddMinutes(10), s_ten.AddMinutes(20))).Single().Requests.Should().Be(1, "a range within one hour reads records only");
    }

    [StoreFact]
    public async Task Query_MedianOfHoursOfManyBatches_WithinTwoAndAHalfPercentOfTheExactOne()
    {
        var random = new Random(11);
        var durations = new List<double>();
        var ttfts = new List<double>();
        for (var batch = 0; batch < 20; batch++)
        {
            var records = new UsageRecord[200];
            for (var i = 0; i < records.Length; i++)
            {
                var duration = Math.Exp(random.NextDouble() * 8) * 5;
                var ttft = duration * random.NextDouble();
                durations.Add(duration);
                ttfts.Add(ttft);
                records[i] = Record(s_ten.AddMinutes(random.Next(0, 300)), durationMs: duration, ttftMs: ttft);
            }

            Write(records);
        }

        var group = (await QueryAsync(s_ten, s_ten.AddHours(5))).Single();

        group.Requests.Should().Be(4000);
        group.DurationMsP50!.Value.Should().BeApproximately(Median(durations), Median(durations) * 0.025);
        group.TtftMsP50!.Value.Should().BeApproximately(Median(ttfts), Median(ttfts) * 0.025);
    }

    [StoreFact]
    public async Task Query_ByEachGrouping_GroupsNamedAndOrdered()
    {
        Write(
            Record(s_ten.AddMinutes(10), keyId: "key_w", keyName: "open-webui", user: "ada", status: 200, backend: "gpu1"),
            Record(s_ten.AddMinutes(20), keyId: "key_w", keyName: "open-webui", user: "bob", status: 404, backend: null, ttftMs: null),
            Record(s_ten.AddMinutes(70), keyId: "key_w", keyName: "open-webui", user: "ada", status: 200, backend: "gpu2"),
            Record(s_ten.AddDays(1), keyId: "key_l", keyName: "laptop", status: 499, backend: "gpu1"));
        var to = s_ten.AddDays(2);

        async Task<string?[]> Groups(UsageGrouping grouping) => [.. (await QueryAsync(s_ten, to, grouping)).Select(g => g.Group)];

        (await Groups(UsageGrouping.Key)).Should().Equal("key_w", "key_l");
        (await QueryAsync(s_ten, to, UsageGrouping.Key)).Select(g => g.KeyName).Should().Equal("open-webui", "laptop");
        (await Groups(UsageGrouping.User)).Should().Equal("ada", "bob", null);
        (await Groups(UsageGrouping.Backend)).Should().Equal("gpu1", "gpu2", null);
        (await Groups(UsageGrouping.Status)).Should().Equal("200", "404", "499");
        (await Groups(UsageGrouping.Route)).Should().Equal("/api/chat");
        (await Groups(UsageGrouping.Hour)).Should().Equal("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", "2026-12-02T10:00:00Z");
        (await Groups(UsageGrouping.Day)).Should().Equal("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z");
        var statuses = await QueryAsync(s_ten, to, UsageGrouping.Status);
        statuses.Select(g => g.Errors).Should().Equal(0, 1, 1);
        statuses[1].TtftMsP50.Should().BeNull("no byte of an answer was sent");
    }

    [StoreFact]
    public async Task Query_TtftAverage_ExactFromRollupsAcrossBatchesAndFromRecords_NullWithoutAny()
    {
        Write(Record(s_ten.AddMinutes(5), ttftMs: 100.5), Record(s_ten.AddMinutes(6), ttftMs: null, status: 404));
        Write(Record(s_ten.AddMinutes(7), ttftMs: 300.25), Record(s_ten.AddMinutes(70), ttftMs: 40, model: "qwen3"));
        Write(Record(s_ten.AddMinutes(130), ttftMs: null, model: "qwen3", status: 404));
        using (var session = Store.OpenUsageWriter())
        {
            session.DeleteRecordsBefore(s_ten.AddMinutes(120), 1000).Should().Be(4, "the first two hours are then read from rollups only");
        }

        var hours = await QueryAsync(s_ten, s_ten.AddHours(2).AddMinutes(40), UsageGrouping.Hour);

        hours.Select(h => (h.Group, h.Requests, h.TtftMsAvg)).Should().Equal(
            ("2026-12-01T10:00:00Z", 3L, 200.38),
            ("2026-12-01T11:00:00Z", 1L, 40.0),
            ("2026-12-01T12:00:00Z", 1L, (double?)null));
        var byModel = await QueryAsync(s_ten, s_ten.AddHours(2).AddMinutes(40));
        byModel.Select(g => (g.Group, g.TtftMsAvg)).Should().Equal(("llama3.2:latest", 200.38), ("qwen3:latest", 40.0));
    }

    [StoreFact]
    public async Task Query_PerBucketAndValue_OneGroupEach_BucketsInTimeOrderMostRequestsFirst()
    {
        Write(
            Record(s_ten.AddMinutes(10), keyId: "key_w", keyName: "open-webui", backend: "gpu1", ttftMs: 10),
            Record(s_ten.AddMinutes(20), keyId: "key_w", keyName: "open-webui", backend: "gpu2", ttftMs: 30),
            Record(s_ten.AddMinutes(30), keyId: "key_l", keyName: "laptop", model: "qwen3", backend: "gpu1", ttftMs: 50),
            Record(s_ten.AddMinutes(70), keyId: "key_l", keyName: "laptop", model: "qwen3", backend: null, ttftMs: null),
            Record(s_ten.AddDays(1), keyId: "key_l", keyName: "laptop", backend: "gpu1"));
        // A range with whole hours (rollups) and parts of hours at both ends (records).
        var from = s_ten.AddMinutes(5);
        var to = s_ten.AddDays(1).AddMinutes(30);

        var byHourModel = await QueryAsync(from, to, UsageGrouping.Model, UsageGrouping.Hour);
        byHourModel.Select(g => (g.Time, g.Group, g.Requests, g.TtftMsAvg)).Should().Equal(
            ("2026-12-01T10:00:00Z", "llama3.2:latest", 2L, 20.0),
            ("2026-12-01T10:00:00Z", "qwen3:latest", 1L, 50.0),
            ("2026-12-01T11:00:00Z", "qwen3:latest", 1L, (double?)null),
            ("2026-12-02T10:00:00Z", "llama3.2:latest", 1L, 10.0));
        var byDayKey = await QueryAsync(from, to, UsageGrouping.Key, UsageGrouping.Day);
        byDayKey.Select(g => (g.Time, g.Group, g.KeyName, g.Requests)).Should().Equal(
            ("2026-12-01T00:00:00Z", "key_l", "laptop", 2L),
            ("2026-12-01T00:00:00Z", "key_w", "open-webui", 2L),
            ("2026-12-02T00:00:00Z", "key_l", "laptop", 1L));
        var byHourBackend = await QueryAsync(from, to, UsageGrouping.Backend, UsageGrouping.Hour);
        byHourBackend.Select(g => (g.Time, g.Group)).Should().Equal(
            ("2026-12-01T10:00:00Z", "gpu1"), ("2026-12-01T10:00:00Z", "gpu2"), ("2026-12-01T11:00:00Z", null), ("2026-12-02T10:00:00Z", "gpu1"));
        (await QueryAsync(from, to, UsageGrouping.User, UsageGrouping.Day)).Select(g => (g.Time, g.Group, g.Requests)).Should().Equal(
            ("2026-12-01T00:00:00Z", null, 4L), ("2026-12-02T00:00:00Z", null, 1L));
        (await QueryAsync(from, to, UsageGrouping.Model)).Should().OnlyContain(g => g.Time == null, "without a bucket there is no time");
    }

    [StoreFact]
    public async Task Query_RecordsBeyondTheFirstHourOfALongRequest_CountedInTheHourItStarted()
    {
        // A late record: it started in hour 10 and is written when hour 10 is over and hour 11 was written.
        Write(Record(s_ten.AddMinutes(65)));
        Write(Record(s_ten.AddMinutes(59), durationMs: 120_000));

        var hours = await QueryAsync(s_ten, s_ten.AddHours(2), UsageGrouping.Hour);

        hours.Select(h => (h.Group, h.Requests)).Should().Equal(("2026-12-01T10:00:00Z", 1L), ("2026-12-01T11:00:00Z", 1L));
    }

    [StoreFact]
    public async Task Query_ToFarInTheFuture_FindsTheRecords()
    {
        Write(Record(s_ten.AddMinutes(1)), Record(s_ten.AddMinutes(90)));

        (await ListAsync(s_ten, DateTimeOffset.MaxValue)).Should().HaveCount(2);
        (await QueryAsync(s_ten.AddMinutes(30), DateTimeOffset.MaxValue)).Single().Requests.Should().Be(1);
        (await QueryAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue)).Single().Requests.Should().Be(2);
    }

    [StoreFact]
    public async Task Query_TenDays_ReadInPartsAndAddedUpAsOne()
    {
        var records = Enumerable.Range(0, 240).Select(h => Record(s_ten.AddHours(h).AddMinutes(1), model: h % 3 == 0 ? "qwen3" : "llama3.2", durationMs: 10 + h)).ToArray();
        Write(records);

        var byModel = await QueryAsync(s_ten, s_ten.AddDays(10));
        var byDay = await QueryAsync(s_ten, s_ten.AddDays(10), UsageGrouping.Day);

        byModel.Select(g => (g.Group, g.Requests)).Should().Equal(("llama3.2:latest", 160L), ("qwen3:latest", 80L));
        byDay.Should().HaveCount(11).And.Subject.Sum(g => g.Requests).Should().Be(240);
        var median = Median([.. records.Select(r => r.DurationMs)]);
        var all = await QueryAsync(s_ten, s_ten.AddDays(10), UsageGrouping.Route);
        all.Single().DurationMsP50!.Value.Should().BeApproximately(median, median * 0.025);
    }

    [StoreFact]
    public async Task Write_NulAndLoneSurrogateInNamesAndError_WrittenAndCounted()
    {
        var odd = Record(s_ten.AddMinutes(1), model: "llama\u00003.2", user: "ada\ud800") with { Error = "bad\u0000byte" };
        Write(odd, Record(s_ten.AddMinutes(2)));

        var stored = await ListAsync(s_ten, s_ten.AddHours(1));

        stored.Should().HaveCount(2);
        stored[1].Model.Should().StartWith("llama").And.EndWith("3.2");
        stored[1].Error.Should().StartWith("bad").And.EndWith("byte");
        (await QueryAsync(s_ten, s_ten.AddHours(1), UsageGrouping.User)).Sum(g => g.Requests).Should().Be(2);
    }

    [StoreFact]
    public async Task Prune_RecordsOldestFirstInChunks_RollupsAnHourAtATime()
    {
        Write(
            Record(s_ten.AddMinutes(1)),
            Record(s_ten.AddMinutes(2)),
            Record(s_ten.AddMinutes(61)),
            Record(s_ten.AddMinutes(62), model: "qwen3"),
            Record(s_ten.AddMinutes(121)));
        using var session = Store.OpenUsageWriter();

        session.DeleteRecordsBefore(s_ten.AddMinutes(100), 3).Should().Be(3);
        // The oldest went first.
        (await ListAsync(s_ten, s_ten.AddHours(3))).Select(r => r.Time).Should().Equal(s_ten.AddMinutes(121), s_ten.AddMinutes(62));
        session.DeleteRecordsBefore(s_ten.AddMinutes(100), 3).Should().Be(1);
        session.DeleteRecordsBefore(s_ten.AddMinutes(100), 3).Should().Be(0);

        session.DeleteOldestRollupHourBefore(s_ten.AddHours(2)).Should().Be(1, "hour 10 has one rollup row");
        session.DeleteOldestRollupHourBefore(s_ten.AddHours(2)).Should().Be(2, "hour 11 has two, one per model");
        session.DeleteOldestRollupHourBefore(s_ten.AddHours(2)).Should().Be(0, "hour 12 is not before the limit");
        (await QueryAsync(s_ten, s_ten.AddHours(3), UsageGrouping.Hour)).Select(h => h.Group).Should().Equal("2026-12-01T12:00:00Z");
    }

    /// <summary>Writes the records in one batch, on a session of their own.</summary>
    internal void Write(params UsageRecord[] records)
    {
        using var session = Store.OpenUsageWriter();
        session.Write(records);
    }

    internal Task<IReadOnlyList<UsageGroup>> QueryAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping = UsageGrouping.Model, UsageGrouping? bucket = null) =>
        new UsageReport(Store).QueryAsync(from, to, grouping, bucket, CancellationToken.None);

    internal Task<IReadOnlyList<StoredUsageRecord>> ListAsync(DateTimeOffset from, DateTimeOffset to, string? key = null, string? model = null, int limit = 100) =>
        Store.ListUsageRecordsAsync(new UsageRecordFilter(from, to, key, model, limit), CancellationToken.None);

    private static double Median(List<double> values) => values.Order().ElementAt((values.Count + 1) / 2 - 1);
}

/// <summary>The usage store contract on the embedded SQLite store.</summary>
public sealed class SqliteUsageStoreTests : UsageStoreContract
{
    private TemporaryStore _temporary = null!;

    internal override async Task<IUsageStore> CreateStoreAsync()
    {
        _temporary = await TemporaryStore.CreateAsync();
        return _temporary.Store;
    }

    public override async Task DisposeAsync() => await _temporary.DisposeAsync();

    [Theory]
    [InlineData(1)]
    [InlineData(SqliteUsageWriteSession.RowsPerInsert * 2)]
    public async Task Write_IdOfTheSameMillisecondTaken_NextSequenceNumberUsed(int count)
    {
        using var session = (SqliteUsageWriteSession)Store.OpenUsageWriter();
        session.NextSequence = 7;
        session.Write([Record(s_ten, model: "first")]);
        // 2^20 records later, a record of the same millisecond (a long stream) would get the same id.
        session.NextSequence = 7 + (1 << 20);
        session.Write([.. Enumerable.Range(0, count).Select(_ => Record(s_ten, model: "second"))]);

        var records = await ListAsync(s_ten, s_ten.AddSeconds(1), limit: 1000);

        records.Select(r => r.Model).Should().HaveCount(count + 1).And.Contain("first").And.Contain("second");
        (await QueryAsync(s_ten, s_ten.AddHours(1))).Sum(g => g.Requests).Should().Be(count + 1);
    }
}

/// <summary>The usage store contract on PostgreSQL (<c>CORRAL_TEST_POSTGRES</c>), in a database of its own.</summary>
[PostgresStoreTests]
public sealed class PostgresUsageStoreTests : UsageStoreContract
{
    private TemporaryPostgresStore? _temporary;

    internal override async Task<IUsageStore> CreateStoreAsync()
    {
        _temporary = await TemporaryPostgresStore.CreateAsync();
        return _temporary.Store;
    }

    public override async Task DisposeAsync()
    {
        if (_temporary is not null)
        {
            await _temporary.DisposeAsync();
        }
    }

    [PostgresFact]
    public async Task Write_IdOfTheSameMillisecondTaken_NextSequenceNumberUsed()
    {
        using var session = (PostgresUsageWriteSession)Store.OpenUsageWriter();
        session.NextSequence = 7;
        session.Write([Record(s_ten, model: "first")]);
        // 2^14 records later, a record of the same millisecond (a long stream) would get the same id.
        session.NextSequence = 7 + (1 << 14);
        session.Write([.. Enumerable.Range(0, 50).Select(_ => Record(s_ten, model: "second"))]);

        var records = await ListAsync(s_ten, s_ten.AddSeconds(1), limit: 1000);

        records.Select(r => r.Model).Should().HaveCount(51).And.Contain("first").And.Contain("second");
        (await QueryAsync(s_ten, s_ten.AddHours(1))).Sum(g => g.Requests).Should().Be(51);
    }
}
