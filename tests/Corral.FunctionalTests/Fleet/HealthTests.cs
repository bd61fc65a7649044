using System.Diagnostics;
using System.Globalization;
using System.Net;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;
using Xunit.Abstractions;

namespace Corral.FunctionalTests.Fleet;

/// <summary>Active health checks: backends going down and coming back, and the loaded models read from /api/ps.</summary>
public sealed class HealthTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(200);

    private static Task<CorralInstance> StartCorralAsync(params SimulatedOllama[] simulators) =>
        StartCorralAsync(s_interval, simulators);

    private static Task<CorralInstance> StartCorralAsync(TimeSpan interval, params SimulatedOllama[] simulators) =>
        CorralInstance.StartAsync(
            simulators.Select((s, i) => CorralInstance.Backend(s, ((char)('a' + i)).ToString())),
            configure: s => s with { HealthInterval = interval, FailureThreshold = 2 });

    // A health check has succeeded once the admin API shows a check round trip.
    private static async Task<bool> CheckedAsync(CorralInstance corral, string name) => (await corral.BackendAsync(name)).GetProperty("latencyMs").ValueKind == System.Text.Json.JsonValueKind.Number;

    private static string Ms(TimeSpan span) => span.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Backend_StopsListening_UnhealthyWithinAFewIntervals()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a);
        await Eventually.WaitUntilAsync(() => CheckedAsync(corral, "a"), "the first check succeeded");
        (await corral.BackendStateAsync("a")).Should().Be("healthy");

        a.Faults.RefuseConnections = true;
        var noticed = await Eventually.WaitUntilAsync(async () => await corral.BackendStateAsync("a") == "unhealthy", "the backend is marked unhealthy");

        output.WriteLine($"time to notice a backend that stopped listening: {Ms(noticed)} ms (interval {Ms(s_interval)} ms; a refused connection needs no threshold)");
        noticed.Should().BeLessThan(s_interval * 5, "the first check that is refused takes the backend out, and checks are at most 240 ms apart");
        (await corral.BackendAsync("a")).GetProperty("lastError").GetString().Should().Contain("connection refused");
    }

    [Fact]
    public async Task Backend_ListensAgain_HealthyWithinAboutOneIntervalAndServesAgain()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartCorralAsync(a);
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();

        var recoveries = new List<TimeSpan>();
        for (var round = 0; round < 3; round++)
        {
            a.Faults.RefuseConnections = true;
            await Eventually.WaitUntilAsync(async () => await corral.BackendStateAsync("a") == "unhealthy", "the backend is marked unhealthy");

            a.Faults.RefuseConnections = false; // returns once the simulator listens again
            recoveries.Add(await Eventually.WaitUntilAsync(async () => await corral.BackendStateAsync("a") == "healthy", "the backend is healthy again"));
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
        // Checks every minute: only the wake-up on the opened circuit can bring the backend back in time. The
        // requests time out (the checks are not delayed), so they count towards the threshold of 2.
        var interval = TimeSpan.FromMinutes(1);
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a") with { FirstByteTimeout = TimeSpan.FromMilliseconds(200) }],
            configure: s => s with { HealthInterval = interval, FailureThreshold = 2 });
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        await Eventually.WaitUntilAsync(() => CheckedAsync(corral, "a"), "the first check succeeded");

        a.Faults.FirstByteDelay = TimeSpan.FromSeconds(30);
        using (var first = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}"""))
        {
            first.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout, "one failure is below the threshold: the backend is still up");
        }

        using (var second = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}"""))
        {
            second.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the second failure took the only holder out: the model is unavailable");
            (await second.ErrorAsync()).Should().Contain("backend 'a'").And.Contain("first-byte timeout");
        }

        (await corral.BackendStateAsync("a")).Should().Be("unhealthy", "two failed requests reach the threshold");
        var clock = Stopwatch.StartNew();
        a.Faults.FirstByteDelay = TimeSpan.Zero;
        await Eventually.WaitUntilAsync(async () => await corral.BackendStateAsync("a") == "healthy", "the backend is healthy again");

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
        await Eventually.WaitUntilAsync(() => b.Received("/api/ps").Length > 0, "b's loaded models were read");
        (await corral.LoadedModelsAsync("b")).Should().BeEmpty("nothing is loaded yet");

        // Loaded behind Corral's back, by a client talking to the backend directly.
        using (var direct = new HttpClient { BaseAddress = b.BaseAddress })
        {
            using var loaded = await direct.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""");
            loaded.EnsureSuccessStatusCode();
        }

        await Eventually.WaitUntilAsync(async () => (await corral.LoadedModelsAsync("b")).Contains("llama3.2:latest"), "Corral knows the model is loaded on b");
        (await corral.LoadedModelsAsync("a")).Should().BeEmpty();

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
        using (var loaded = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}"""))
        {
            loaded.EnsureSuccessStatusCode();
        }

        await Eventually.WaitUntilAsync(async () => (await corral.LoadedModelsAsync("a")).Contains("llama3.2:latest"), "Corral's own request loaded the model");
        using (var direct = new HttpClient { BaseAddress = a.BaseAddress })
        {
            using var unloaded = await direct.PostJsonAsync("/api/generate", """{"model":"llama3.2","keep_alive":0}""");
            unloaded.EnsureSuccessStatusCode();
        }

        await Eventually.WaitUntilAsync(async () => (await corral.LoadedModelsAsync("a")).Length == 0, "Corral knows the model was unloaded");
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
        await Eventually.WaitUntilAsync(async () => await corral.BackendStateAsync("a") == "unhealthy", "a is marked unhealthy");

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
        using var admin = corral.Client();
        await Eventually.WaitUntilAsync(() => a.Received("/api/version").Length > 0 && b.Received("/api/version").Length > 0, "a and b are checked");

        (await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"c","url":"{{c.BaseAddress.ToString().TrimEnd('/')}}"}""")).StatusCode.Should().Be(HttpStatusCode.Created);
        await Eventually.WaitUntilAsync(() => c.Received("/api/version").Length > 0, "the added backend c is checked");

        (await admin.DeleteAsync("/admin/api/backends/c")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await admin.PostAsync("/admin/api/backends/b/disable", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        // A check may have been under way at the change; after that, three more checks of a leave b and c alone.
        var (checksOfB, checksOfC) = (b.Received("/api/version").Length + 1, c.Received("/api/version").Length + 1);
        var checksOfA = a.Received("/api/version").Length;
        await Eventually.WaitUntilAsync(() => a.Received("/api/version").Length >= checksOfA + 3, "a is checked three more times");

        b.Received("/api/version").Length.Should().BeLessThanOrEqualTo(checksOfB, "a disabled backend is not checked");
        c.Received("/api/version").Length.Should().BeLessThanOrEqualTo(checksOfC, "a removed backend is not checked");

        (await admin.PostAsync("/admin/api/backends/b/enable", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        var beforeEnabled = b.Received("/api/version").Length;
        await Eventually.WaitUntilAsync(() => b.Received("/api/version").Length > beforeEnabled, "b is checked again once enabled");
    }
}
