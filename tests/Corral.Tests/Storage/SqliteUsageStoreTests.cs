using Corral.Tests.Usage;
using Corral.Usage;
using static Corral.Tests.Usage.UsageTestData;

namespace Corral.Tests.Storage;

public sealed class SqliteUsageStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_ten = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private TemporaryStore _store = null!;

    public async Task InitializeAsync() => _store = await TemporaryStore.CreateAsync();

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
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
        _store.Write(record);

        var stored = (await _store.ListAsync(s_ten, s_ten.AddHours(1))).Should().ContainSingle().Subject;

        stored.Should().Be(new Corral.Storage.StoredUsageRecord(
            s_ten.AddMilliseconds(1234), "key_1", "open-webui", "ada@example.com", "/v1/chat/completions", "llama3.2",
            "big.llama3.2:latest", "gpu2", 502, "backend 'gpu2' failed: connection reset, \"twice\"", 11, 22, 1.5, 250.125,
            1000.25, 0.375, 123, 4567, 2, true));
    }

    [Fact]
    public async Task Write_NoKeyNoModelNoBackend_NullsReadBack()
    {
        _store.Write(Record(s_ten, model: null, status: 401, keyId: null, keyName: null, backend: null, ttftMs: null));

        var stored = (await _store.ListAsync(s_ten, s_ten.AddHours(1))).Single();

        (stored.KeyId, stored.KeyName, stored.Model, stored.ResolvedModel, stored.Backend, stored.TtftMs, stored.Status)
            .Should().Be((null, null, null, null, null, null, 401));
    }

    [Fact]
    public async Task ListUsageRecords_Filters_KeyByIdOrNameModelAsAskedOrResolvedNewestFirstUpToLimit()
    {
        _store.Write(
            Record(s_ten.AddMinutes(1), keyId: "key_a", keyName: "laptop", model: "llama3.2"),
            Record(s_ten.AddMinutes(2), keyId: "key_b", keyName: "n8n", model: "qwen3"),
            Record(s_ten.AddMinutes(3), keyId: "key_a", keyName: "laptop", model: "qwen3"),
            Record(s_ten.AddMinutes(4), keyId: "key_a", keyName: "laptop", model: "llama3.2"));
        var end = s_ten.AddHours(1);

        (await _store.ListAsync(s_ten, end)).Select(r => r.Time.Minute).Should().Equal(4, 3, 2, 1);
        (await _store.ListAsync(s_ten, end, key: "key_a")).Select(r => r.Time.Minute).Should().Equal(4, 3, 1);
        (await _store.ListAsync(s_ten, end, key: "n8n")).Select(r => r.Time.Minute).Should().Equal(2);
        (await _store.ListAsync(s_ten, end, model: "qwen3:latest")).Select(r => r.Time.Minute).Should().Equal(3, 2);
        (await _store.ListAsync(s_ten, end, key: "laptop", model: "llama3.2")).Select(r => r.Time.Minute).Should().Equal(4, 1);
        (await _store.ListAsync(s_ten, end, limit: 2)).Select(r => r.Time.Minute).Should().Equal(4, 3);
        (await _store.ListAsync(s_ten.AddMinutes(2), s_ten.AddMinutes(4))).Select(r => r.Time.Minute).Should().Equal(3, 2);
        (await _store.ListAsync(s_ten, end, key: "nobody")).Should().BeEmpty();
    }

    [Fact]
    public async Task Query_WholeHours_FromRollupsMergedAcrossBatches()
    {
        _store.Write(Record(s_ten.AddMinutes(5), status: 200, promptTokens: 1, completionTokens: 2));
        _store.Write(Record(s_ten.AddMinutes(6), status: 500, promptTokens: 10, completionTokens: 20), Record(s_ten.AddMinutes(50), model: "qwen3"));
        _store.Write(Record(s_ten.AddMinutes(70), status: 200));
        // The records go; the rollups stay: whole hours are answered from the rollups alone.
        using (var session = _store.Store.OpenUsageWriter())
        {
            session.DeleteRecordsBefore(s_ten.AddDays(1), 1000).Should().Be(4);
        }

        var groups = await _store.QueryAsync(s_ten, s_ten.AddHours(2));

        groups.Select(g => (g.Group, g.Requests, g.Errors, g.PromptTokens, g.CompletionTokens, g.TotalTokens)).Should().Equal(
            ("llama3.2:latest", 3L, 1L, 14L, 29L, 43L),
            ("qwen3:latest", 1L, 0L, 3L, 7L, 10L));
        groups[0].TtftMsP50!.Value.Should().BeApproximately(10, 0.25);
        groups[0].DurationMsP50!.Value.Should().BeApproximately(100, 2.5);
        (await _store.QueryAsync(s_ten.AddMinutes(1), s_ten.AddMinutes(59))).Should().BeEmpty("parts of hours come from the records");
    }

    [Fact]
    public async Task Query_PartsOfHoursAtTheEdges_FromRecordsToTheMillisecond()
    {
        _store.Write(
            Record(s_ten.AddMinutes(15)),
            Record(s_ten.AddMinutes(45)),
            Record(s_ten.AddMinutes(90)),
            Record(s_ten.AddMinutes(125)),
            Record(s_ten.AddMinutes(130)));

        (await _store.QueryAsync(s_ten.AddMinutes(30), s_ten.AddMinutes(126))).Single().Requests.Should().Be(3);
        (await _store.QueryAsync(s_ten.AddMinutes(45), s_ten.AddMinutes(125))).Single().Requests.Should().Be(2, "from is inclusive, to is not");
        (await _store.QueryAsync(s_ten.AddMinutes(45).AddMilliseconds(1), s_ten.AddMinutes(130).AddMilliseconds(1))).Single().Requests.Should().Be(3);
        (await _store.QueryAsync(s_ten.AddMinutes(10), s_ten.AddMinutes(20))).Single().Requests.Should().Be(1, "a range within one hour reads records only");
    }

    [Fact]
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

            _store.Write(records);
        }

        var group = (await _store.QueryAsync(s_ten, s_ten.AddHours(5))).Single();

        group.Requests.Should().Be(4000);
        group.DurationMsP50!.Value.Should().BeApproximately(Median(durations), Median(durations) * 0.025);
        group.TtftMsP50!.Value.Should().BeApproximately(Median(ttfts), Median(ttfts) * 0.025);
    }

    [Fact]
    public async Task Query_ByEachGrouping_GroupsNamedAndOrdered()
    {
        _store.Write(
            Record(s_ten.AddMinutes(10), keyId: "key_w", keyName: "open-webui", user: "ada", status: 200, backend: "gpu1"),
            Record(s_ten.AddMinutes(20), keyId: "key_w", keyName: "open-webui", user: "bob", status: 404, backend: null, ttftMs: null),
            Record(s_ten.AddMinutes(70), keyId: "key_w", keyName: "open-webui", user: "ada", status: 200, backend: "gpu2"),
            Record(s_ten.AddDays(1), keyId: "key_l", keyName: "laptop", status: 499, backend: "gpu1"));
        var to = s_ten.AddDays(2);

        async Task<string?[]> Groups(UsageGrouping grouping) => [.. (await _store.QueryAsync(s_ten, to, grouping)).Select(g => g.Group)];

        (await Groups(UsageGrouping.Key)).Should().Equal("key_w", "key_l");
        (await _store.QueryAsync(s_ten, to, UsageGrouping.Key)).Select(g => g.KeyName).Should().Equal("open-webui", "laptop");
        (await Groups(UsageGrouping.User)).Should().Equal("ada", "bob", null);
        (await Groups(UsageGrouping.Backend)).Should().Equal("gpu1", "gpu2", null);
        (await Groups(UsageGrouping.Status)).Should().Equal("200", "404", "499");
        (await Groups(UsageGrouping.Route)).Should().Equal("/api/chat");
        (await Groups(UsageGrouping.Hour)).Should().Equal("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", "2026-12-02T10:00:00Z");
        (await Groups(UsageGrouping.Day)).Should().Equal("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z");
        var statuses = await _store.QueryAsync(s_ten, to, UsageGrouping.Status);
        statuses.Select(g => g.Errors).Should().Equal(0, 1, 1);
        statuses[1].TtftMsP50.Should().BeNull("no byte of an answer was sent");
    }

    [Fact]
    public async Task Query_RecordsBeyondTheFirstHourOfALongRequest_CountedInTheHourItStarted()
    {
        // A late record: it started in hour 10 and is written when hour 10 is over and hour 11 was written.
        _store.Write(Record(s_ten.AddMinutes(65)));
        _store.Write(Record(s_ten.AddMinutes(59), durationMs: 120_000));

        var hours = await _store.QueryAsync(s_ten, s_ten.AddHours(2), UsageGrouping.Hour);

        hours.Select(h => (h.Group, h.Requests)).Should().Equal(("2026-12-01T10:00:00Z", 1L), ("2026-12-01T11:00:00Z", 1L));
    }

    [Fact]
    public async Task Query_ToFarInTheFuture_FindsTheRecords()
    {
        _store.Write(Record(s_ten.AddMinutes(1)), Record(s_ten.AddMinutes(90)));

        (await _store.ListAsync(s_ten, DateTimeOffset.MaxValue)).Should().HaveCount(2);
        (await _store.QueryAsync(s_ten.AddMinutes(30), DateTimeOffset.MaxValue)).Single().Requests.Should().Be(1);
        (await _store.QueryAsync(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue)).Single().Requests.Should().Be(2);
    }

    [Fact]
    public async Task Query_TenDays_ReadInPartsAndAddedUpAsOne()
    {
        var records = Enumerable.Range(0, 240).Select(h => Record(s_ten.AddHours(h).AddMinutes(1), model: h % 3 == 0 ? "qwen3" : "llama3.2", durationMs: 10 + h)).ToArray();
        _store.Write(records);

        var byModel = await _store.QueryAsync(s_ten, s_ten.AddDays(10));
        var byDay = await _store.QueryAsync(s_ten, s_ten.AddDays(10), UsageGrouping.Day);

        byModel.Select(g => (g.Group, g.Requests)).Should().Equal(("llama3.2:latest", 160L), ("qwen3:latest", 80L));
        byDay.Should().HaveCount(11).And.Subject.Sum(g => g.Requests).Should().Be(240);
        var median = Median([.. records.Select(r => r.DurationMs)]);
        var all = await _store.QueryAsync(s_ten, s_ten.AddDays(10), UsageGrouping.Route);
        all.Single().DurationMsP50!.Value.Should().BeApproximately(median, median * 0.025);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(Corral.Storage.SqliteUsageWriteSession.RowsPerInsert * 2)]
    public async Task Write_IdOfTheSameMillisecondTaken_NextSequenceNumberUsed(int count)
    {
        using var session = (Corral.Storage.SqliteUsageWriteSession)_store.Store.OpenUsageWriter();
        session.NextSequence = 7;
        session.Write([Record(s_ten, model: "first")]);
        // 2^20 records later, a record of the same millisecond (a long stream) would get the same id.
        session.NextSequence = 7 + (1 << 20);
        session.Write([.. Enumerable.Range(0, count).Select(_ => Record(s_ten, model: "second"))]);

        var records = await _store.ListAsync(s_ten, s_ten.AddSeconds(1), limit: 1000);

        records.Select(r => r.Model).Should().HaveCount(count + 1).And.Contain("first").And.Contain("second");
        (await _store.QueryAsync(s_ten, s_ten.AddHours(1))).Sum(g => g.Requests).Should().Be(count + 1);
    }

    private static double Median(List<double> values) => values.Order().ElementAt((values.Count + 1) / 2 - 1);
}
