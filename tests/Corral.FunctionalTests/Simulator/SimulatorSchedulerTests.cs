using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

public sealed class SimulatorSchedulerTests
{
    private static async Task<List<JsonElement>> PsAsync(HttpClient client) =>
        [.. (await SimulatorKit.JsonAsync(await client.GetAsync("/api/ps"))).GetProperty("models").EnumerateArray()];

    [Fact]
    public async Task Ps_AfterKeepAliveRunsOut_ModelIsUnloaded()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero));
        await using var simulator = await SimulatorKit.StartAsync(o => o.TimeProvider = time);
        using var client = SimulatorKit.Client(simulator);
        (await PsAsync(client)).Should().BeEmpty();

        using var response = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false,"keep_alive":"10s"}""");
        ((int)response.StatusCode).Should().Be(200);

        var loaded = (await PsAsync(client)).Should().ContainSingle().Subject;
        loaded.GetProperty("name").GetString().Should().Be("llama3.2:latest");
        loaded.GetProperty("expires_at").GetString().Should().Be("2025-01-01T12:00:10.123Z");
        loaded.GetProperty("size_vram").GetInt64().Should().BePositive();
        loaded.GetProperty("context_length").GetInt32().Should().BePositive();

        time.Advance(TimeSpan.FromSeconds(9));
        (await PsAsync(client)).Should().ContainSingle();
        time.Advance(TimeSpan.FromSeconds(2));
        (await PsAsync(client)).Should().BeEmpty();
    }

    [Fact]
    public async Task Ps_KeepAliveNumbersAndNegatives_FollowOllamasRules()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero));
        await using var simulator = await SimulatorKit.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.Models = ["llama3.2", "all-minilm"];
        });
        using var client = SimulatorKit.Client(simulator);

        (await SimulatorKit.PostAsync(client, "/api/embed", """{"model":"all-minilm","input":"x","keep_alive":-1}""")).Dispose();
        (await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","keep_alive":90}""")).Dispose();

        var models = await PsAsync(client);
        models.Select(m => m.GetProperty("name").GetString()).Should().Equal("all-minilm:latest", "llama3.2:latest");
        DateTimeOffset.Parse(models[0].GetProperty("expires_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture).Year.Should().BeGreaterThan(2300);
        models[1].GetProperty("expires_at").GetString().Should().Be("2025-01-01T12:01:30.123Z");
    }

    [Fact]
    public async Task Generate_EmptyPromptThenKeepAliveZero_LoadsThenUnloads()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);

        using var load = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2"}""");
        load.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        var loaded = await SimulatorKit.JsonAsync(load);
        loaded.GetProperty("done_reason").GetString().Should().Be("load");
        (await PsAsync(client)).Should().ContainSingle();

        using var unload = await SimulatorKit.PostAsync(client, "/api/chat", """{"model":"llama3.2","messages":[],"keep_alive":0}""");
        var unloaded = await SimulatorKit.JsonAsync(unload);
        unloaded.GetProperty("done_reason").GetString().Should().Be("unload");
        unloaded.GetProperty("message").GetRawText().Should().Be("""{"role":"assistant","content":""}""");
        (await PsAsync(client)).Should().BeEmpty();
    }

    [Fact]
    public async Task Generate_KeepAliveZero_UnloadsRightAfterTheRequest()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false,"keep_alive":0}""");
        ((int)response.StatusCode).Should().Be(200);

        (await PsAsync(client)).Should().BeEmpty();
    }

    [Fact]
    public async Task Generate_QueueFullWhileModelLoads_Returns503WithOllamasText()
    {
        var time = new TimerCountingTimeProvider();
        await using var simulator = await SimulatorKit.StartAsync(o =>
        {
            o.TimeProvider = time;
            o.LoadMs = 5000;
            o.MaxQueue = 1;
        });
        using var client = SimulatorKit.Client(simulator);

        var first = SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
        await Eventually.WaitUntilAsync(() => time.TimersCreated == 1, "the first request is loading the model (its load delay is the first timer)");

        using var refused = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
        ((int)refused.StatusCode).Should().Be(503);
        refused.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await refused.Content.ReadAsStringAsync()).Should().Be("""{"error":"server busy, please try again.  maximum pending requests exceeded"}""");
        first.IsCompleted.Should().BeFalse();

        time.Advance(TimeSpan.FromSeconds(5));
        using var served = await first.WaitAsync(SimulatorKit.Deadline);
        ((int)served.StatusCode).Should().Be(200);
        (await SimulatorKit.JsonAsync(served)).GetProperty("load_duration").GetInt64().Should().Be(5_000_000_000);
    }

    [Fact]
    public async Task Generate_OneSlot_SecondRequestWaitsForTheFirst()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.TokensPerSecond = 40);
        using var client = SimulatorKit.Client(simulator);
        using var first = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"one"}""");
        var firstEntry = simulator.Journal.Entries.Should().ContainSingle().Subject;

        using var second = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"two"}""");

        firstEntry.Completed.IsCompleted.Should().BeTrue("the second answer cannot start before the only slot is free");
        (await SimulatorKit.LinesAsync(second)).Should().HaveCount(13);
    }

    [Fact]
    public async Task Generate_TwoSlots_RequestsRunSideBySide()
    {
        await using var simulator = await SimulatorKit.StartAsync(o =>
        {
            o.TokensPerSecond = 5;
            o.Parallel = 2;
        });
        using var client = SimulatorKit.Client(simulator);
        using var first = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"one"}""");
        var firstEntry = simulator.Journal.Entries.Should().ContainSingle().Subject;

        using var second = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"two"}""");

        firstEntry.Completed.IsCompleted.Should().BeFalse("with two slots the second answer starts while the first is running");
        simulator.ActiveRequests.Should().Be(2);
    }

    /// <summary>A fake clock that counts the timers made on it, to know when the simulator started waiting.</summary>
    private sealed class TimerCountingTimeProvider : FakeTimeProvider
    {
        private int _created;

        public int TimersCreated => Volatile.Read(ref _created);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _created);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
