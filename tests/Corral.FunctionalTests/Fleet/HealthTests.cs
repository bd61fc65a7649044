using System.Diagnostics;
using System.Globalization;
using System.Net;
using Corral.Catalog;
using Corral.Fleet;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Corral.FunctionalTests.Fleet;

/// <summary>Active health checks: backends going down and coming back, and the loaded models read from /api/ps.</summary>
public sealed class HealthTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(15);

    private static Task<CorralInstance> StartCorralAsync(params SimulatedOllama[] simulators) =>
        StartCorralAsync(s_interval, simulators);

    private static Task<CorralInstance> StartCorralAsync(TimeSpan interval, params SimulatedOllama[] simulators) =>
        CorralInstance.StartAsync(
            simulators.Select((s, i) => CorralInstance.Backend(s, ((char)('a' + i)).ToString())),
            configure: s => s with { HealthInterval = interval, FailureThreshold = 2 });

    private static Backend BackendOf(CorralInstance corral, string name) =>
        corral.Server.Services.GetRequiredService<BackendFleet>().Find(name)!;

    /// <summary>Polls until <paramref name="condition"/> holds and returns how long that took; fails after the deadline.</summary>
    private static async Task<TimeSpan> WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > s_deadline)
            {
                throw new TimeoutException($"Timed out after {s_deadline.TotalSeconds} s waiting until {what}.");
            }

            await Task.Delay(5);
        }

        return clock.Elapsed;
    }

    private static string Ms(TimeSpan span) => span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Backend_StopsListening_UnhealthyWithinAFewIntervals()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a);
        var backend = BackendOf(corral, "a");
        await WaitUntilAsync(() => backend.Health.LastSuccessAt is not null, "the first check succeeded");
        backend.State.Should().Be(BackendState.Healthy);

        a.Faults.RefuseConnections = true;
        var noticed = await WaitUntilAsync(() => backend.State == BackendState.Unhealthy, "the backend is marked unhealthy");

        output.WriteLine($"time to notice a backend that stopped listening: {Ms(noticed)} ms (interval {Ms(s_interval)} ms, threshold 2)");
        noticed.Should().BeLessThan(s_interval * 10, "two failed checks at most 240 ms apart open the circuit");
        backend.Health.LastError.Should().Contain("connection refused");
    }

    [Fact]
    public async Task Backend_ListensAgain_HealthyWithinAboutOneIntervalAndServesAgain()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a);
        using var client = corral.Client();
        var backend = BackendOf(corral, "a");
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();

        var recoveries = new List<TimeSpan>();
        for (var round = 0; round < 3; round++)
        {
            a.Faults.RefuseConnections = true;
            await WaitUntilAsync(() => backend.State == BackendState.Unhealthy, "the backend is marked unhealthy");

            a.Faults.RefuseConnections = false; // returns once the simulator listens again
            recoveries.Add(await WaitUntilAsync(() => backend.State == BackendState.Healthy, "the backend is healthy again"));
        }

        output.WriteLine($"time to notice a recovered backend: {string.Join(", ", recoveries.Select(Ms))} ms (interval {Ms(s_interval)} ms)");
        recoveries.Should().AllSatisfy(r => r.Should().BeLessThan(s_interval * 5, "a down backend is retried at least once per interval"));
        using var response = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Backend().Should().Be("a");
    }

    [Fact]
    public async Task Backend_RequestsFailBetweenChecks_RetriedWithinASecondNotAnInterval()
    {
        // Checks every minute: only the wake-up on the opened circuit can bring the backend back in time.
        var interval = TimeSpan.FromMinutes(1);
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(interval, a);
        using var client = corral.Client();
        var backend = BackendOf(corral, "a");
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        await WaitUntilAsync(() => backend.Health.LastSuccessAt is not null, "the first check succeeded");

        a.Faults.RefuseConnections = true;
        for (var i = 0; i < 2; i++)
        {
            using var failed = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
            failed.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        }

        backend.State.Should().Be(BackendState.Unhealthy, "two failed requests reach the threshold");
        var clock = Stopwatch.StartNew();
        a.Faults.RefuseConnections = false;
        await WaitUntilAsync(() => backend.State == BackendState.Healthy, "the backend is healthy again");

        output.WriteLine($"back {Ms(clock.Elapsed)} ms after it listened again (first retry 1 s after the circuit opened)");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the first retry of a down backend comes after 1 s, not after the 1 min interval");
        using var response = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task LoadedModels_ModelLoadedOnTheBackend_KnownAfterTheNextPollAndPreferred()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a, b);
        var time = corral.Server.Services.GetRequiredService<TimeProvider>();
        var key = ModelName.Key("llama3.2");
        var backendB = BackendOf(corral, "b");
        await WaitUntilAsync(() => b.Received("/api/ps").Length > 0, "b's loaded models were read");
        backendB.Loaded.IsLoaded(key, time.GetUtcNow()).Should().BeFalse("nothing is loaded yet");

        // Loaded behind Corral's back, by a client talking to the backend directly.
        using (var direct = new HttpClient { BaseAddress = b.BaseAddress })
        {
            using var loaded = await direct.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
            loaded.EnsureSuccessStatusCode();
        }

        await WaitUntilAsync(() => backendB.Loaded.IsLoaded(key, time.GetUtcNow()), "Corral knows the model is loaded on b");
        BackendOf(corral, "a").Loaded.IsLoaded(key, time.GetUtcNow()).Should().BeFalse();

        using var client = corral.Client();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Backend().Should().Be("b", "the backend holding the model in memory beats a cold load");
        }
    }

    [Fact]
    public async Task LoadedModels_ModelUnloadedOnTheBackend_ForgottenAfterTheNextPoll()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a);
        using var client = corral.Client();
        var time = corral.Server.Services.GetRequiredService<TimeProvider>();
        var key = ModelName.Key("llama3.2");
        var backend = BackendOf(corral, "a");
        using (var loaded = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}"""))
        {
            loaded.EnsureSuccessStatusCode();
        }

        await WaitUntilAsync(() => backend.Loaded.IsLoaded(key, time.GetUtcNow()), "Corral's own request loaded the model");
        using (var direct = new HttpClient { BaseAddress = a.BaseAddress })
        {
            using var unloaded = await direct.PostJsonAsync("/api/generate", """{"model":"llama3.2","keep_alive":0}""");
            unloaded.EnsureSuccessStatusCode();
        }

        await WaitUntilAsync(() => !backend.Loaded.IsLoaded(key, time.GetUtcNow()), "Corral knows the model was unloaded");
    }

    [Fact]
    public async Task Generate_ModelOnlyOnADownBackend_503NamingTheBackendNot404()
    {
        await using var a = await Sim.StartAsync("phi3");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a, b);
        using var client = corral.Client();
        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Contain("phi3:latest");

        a.Faults.RefuseConnections = true;
        var backend = BackendOf(corral, "a");
        await WaitUntilAsync(() => backend.State == BackendState.Unhealthy, "a is marked unhealthy");

        using var response = await client.PostJsonAsync("/api/generate", """{"model":"phi3","prompt":"hi","stream":false}""");
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter.Should().NotBeNull();
        var error = await response.ErrorAsync();
        error.Should().Contain("'a'").And.Contain("unhealthy").And.Contain("connection refused");
        a.Received("/api/generate").Should().BeEmpty();

        using var other = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
        other.StatusCode.Should().Be(HttpStatusCode.OK, "models of the other backend are served as before");
    }

    [Fact]
    public async Task FleetChanges_AddedBackendIsChecked_RemovedAndDisabledOnesAreNot()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var c = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a, b);
        var fleet = corral.Server.Services.GetRequiredService<BackendFleet>();
        await WaitUntilAsync(() => a.Received("/api/version").Length > 0 && b.Received("/api/version").Length > 0, "a and b are checked");

        fleet.TryAdd(CorralInstance.Backend(c, "c"), out _).Should().BeTrue();
        await WaitUntilAsync(() => c.Received("/api/version").Length > 0, "the added backend c is checked");

        fleet.Remove("a").Should().BeTrue();
        fleet.Update("b", CorralInstance.Backend(b, "b") with { Enabled = false }).Should().NotBeNull();
        // A check may have been under way at the change; after that, three more checks of c leave a and b alone.
        var (checksOfA, checksOfB) = (a.Received("/api/version").Length + 1, b.Received("/api/version").Length + 1);
        var checksOfC = c.Received("/api/version").Length;
        await WaitUntilAsync(() => c.Received("/api/version").Length >= checksOfC + 3, "c is checked three more times");

        a.Received("/api/version").Length.Should().BeLessThanOrEqualTo(checksOfA, "a removed backend is not checked");
        b.Received("/api/version").Length.Should().BeLessThanOrEqualTo(checksOfB, "a disabled backend is not checked");

        fleet.Update("b", CorralInstance.Backend(b, "b")).Should().NotBeNull();
        var beforeEnabled = b.Received("/api/version").Length;
        await WaitUntilAsync(() => b.Received("/api/version").Length > beforeEnabled, "b is checked again once enabled");
    }
}
