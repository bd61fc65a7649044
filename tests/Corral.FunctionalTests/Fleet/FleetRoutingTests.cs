using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Corral.FunctionalTests.Fleet;

/// <summary>
/// Chaos and routing on real sockets: failover, a backend killed under load, timeouts, loaded-model affinity,
/// the queue, clients that leave, and the drain at shutdown. Figures are written to the test output.
/// </summary>
public sealed class FleetRoutingTests(ITestOutputHelper output)
{
    private const string Generate = """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":3}}""";

    private static string Stream(int tokens) => $$$"""{"model":"llama3.2","prompt":"hi","options":{"num_predict":{{{tokens}}}}}""";

    [Fact]
    public async Task Generate_PreferredBackendRefuses_FailsOverOnceAndTakesItOutAtOnce()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a") with { Priority = 0 }, CorralInstance.Backend(b, "b") with { Priority = 1 }],
            s => s with { ExplainRoutes = true, FailureThreshold = 3, HealthInterval = TimeSpan.FromMinutes(5) });
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        // The first health check is done (the next is minutes away): only the requests can find 'a' gone.
        await Eventually.WaitUntilAsync(async () => (await corral.BackendAsync("a")).GetProperty("latencyMs").ValueKind == System.Text.Json.JsonValueKind.Number, "a was checked once");
        await a.StopAsync();

        var failedOver = new List<double>();
        var direct = new List<double>();
        for (var i = 0; i < 10; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await client.PostJsonAsync("/api/generate", Generate);
            var ms = clock.Elapsed.TotalMilliseconds;

            response.StatusCode.Should().Be(HttpStatusCode.OK, "a refused connection is retried on the next backend");
            response.Backend().Should().Be("b");
            var route = response.Headers.GetValues("X-Corral-Route").Single();
            (route.Contains("attempt 2", StringComparison.Ordinal) ? failedOver : direct).Add(ms);
        }

        failedOver.Should().HaveCount(1, "a refused connection takes 'a' out at once (nothing listens there), whatever the failure threshold");
        var shown = await corral.BackendAsync("a");
        shown.GetProperty("state").GetString().Should().Be("unhealthy");
        shown.GetProperty("lastError").GetString().Should().Contain("connection refused");
        output.WriteLine($"failover: 10 of 10 requests succeeded; median with a failover {Median(failedOver):0.00} ms, without {Median(direct):0.00} ms (added {Median(failedOver) - Median(direct):0.00} ms)");
    }

    [Fact]
    public async Task Stream_BackendKilledUnderLoad_NoRequestThatHadNotStreamedFails()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.Parallel) = (40, 4));
        await using var b = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.Parallel) = (40, 4));
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a") with { MaxConcurrency = 4 }, CorralInstance.Backend(b, "b") with { MaxConcurrency = 4 }],
            s => s with { HealthInterval = TimeSpan.FromMinutes(5) });
        using var client = corral.Client();

        var streamingFromA = 0;
        var requests = Enumerable.Range(0, 32)
            .Select(_ => ReadStreamAsync(client, Stream(20), backend => Interlocked.Add(ref streamingFromA, backend == "a" ? 1 : 0)))
            .ToArray();
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref streamingFromA) >= 2, "clients are receiving streams from 'a'");
        await a.StopAsync();
        var results = await Task.WhenAll(requests);

        results.Should().OnlyContain(r => r.Status == HttpStatusCode.OK, "a failure before the first byte is retried on 'b'");
        var cut = results.Where(r => r.Error is not null).ToArray();
        cut.Should().OnlyContain(r => r.Backend == "a" && r.Error!.Contains("backend 'a'"), "only streams already under way on 'a' can fail, and they say so");
        results.Where(r => r.Error is null).Should().OnlyContain(r => r.Done);
        cut.Length.Should().BeGreaterThan(0, "the kill happened while 'a' was streaming");
        output.WriteLine($"kill under load: {results.Length} requests, {results.Length - cut.Length} completed, {cut.Length} cut mid-stream (all had streamed from 'a'): mid-stream failure rate {100.0 * cut.Length / results.Length:0.#}%; 0 failed before streaming");
    }

    [Fact]
    public async Task Generate_HungBackend_504NamesTheFirstByteTimeout()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { FirstByteTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        a.Faults.Hang = true;

        using var response = await client.PostJsonAsync("/api/generate", Generate);

        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        (await response.ErrorAsync()).Should().Be($"backend 'a' ({a.BaseAddress.ToString().TrimEnd('/')}) did not answer within the first-byte timeout of 0.3 s");
        await a.Received("/api/generate").Single().Aborted.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Stream_BackendGoesSilent_EndsWithAnErrorLineNamingTheIdleTimeout()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 2);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        using var client = corral.Client();

        var result = await ReadStreamAsync(client, Stream(5));

        result.Status.Should().Be(HttpStatusCode.OK);
        result.Error.Should().Contain("backend 'a'").And.Contain("sent nothing for 0.2 s (the idle timeout)");
    }

    [Fact]
    public async Task Generate_ModelLoadedOnOneBackend_StaysThereAndSpillsOnlyWhenWaitingWouldBeLonger()
    {
        // Both hold the model; a cold load takes 300 ms; requests take about 100 ms; Corral assumes 2 s for a load it has not seen.
        await using var a = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.LoadMs) = (50, 300));
        await using var b = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.LoadMs) = (50, 300));
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")],
            s => s with { ColdLoadEstimate = TimeSpan.FromSeconds(2), HealthInterval = TimeSpan.FromMinutes(5), ExplainRoutes = true });
        using var client = corral.Client();
        var body = """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":5}}""";

        string loaded;
        using (var first = await client.PostJsonAsync("/api/generate", body))
        {
            loaded = first.Backend()!;
        }

        var sequential = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostJsonAsync("/api/generate", body);
            sequential.Add(response.Backend()!);
        }

        var few = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
        {
            using var response = await client.PostJsonAsync("/api/generate", body);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            return response.Backend()!;
        }));
        var many = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await client.PostJsonAsync("/api/generate", body);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            return response.Backend()!;
        }));

        sequential.Should().OnlyContain(n => n == loaded, "the backend with the model loaded and a free slot is preferred");
        few.Should().OnlyContain(n => n == loaded, "waiting a few hundred ms for a loaded model beats a 2 s cold load elsewhere");
        many.Should().Contain(n => n != loaded, "with 40 waiting, the wait on the loaded backend exceeds a cold load");
        many.Count(n => n == loaded).Should().BeGreaterThan(many.Length / 3);
        output.WriteLine($"affinity: 3 of 3 sequential and 3 of 3 concurrent on the loaded backend; 40 concurrent: {many.Count(n => n == loaded)} loaded, {many.Count(n => n != loaded)} spilled to the cold one");
    }

    [Fact]
    public async Task Session_SameHeaderOrOpenAiUser_SticksToOneBackendWhileOthersSpread()
    {
        // Loads cost nothing here, so without a session equal backends take turns.
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")],
            s => s with { ColdLoadEstimate = TimeSpan.Zero, DefaultMaxConcurrency = 0, HealthInterval = TimeSpan.FromMinutes(5) });
        using var client = corral.Client();

        var plain = new List<string>();
        var native = new List<string>();
        var openAi = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using (var response = await client.PostJsonAsync("/api/generate", Generate))
            {
                plain.Add(response.Backend()!);
            }

            using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/generate") { Content = new StringContent(Generate, System.Text.Encoding.UTF8, "application/json") })
            {
                request.Headers.Add("X-Corral-Session", "conversation-1");
                using var response = await client.SendAsync(request);
                native.Add(response.Backend()!);
            }

            using (var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","user":"alice","messages":[{"role":"user","content":"hi"}]}"""))
            {
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                openAi.Add(response.Backend()!);
            }
        }

        plain.Distinct().Should().HaveCount(2, "without a session, equal backends share the requests");
        native.Distinct().Should().ContainSingle("requests of one X-Corral-Session stay on one backend");
        openAi.Distinct().Should().ContainSingle("OpenAI requests of one user stay on one backend");
    }

    [Fact]
    public async Task Queue_Full_503ServerBusyWithRetryAfter_InEachSurfacesShape()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 5);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { QueueLength = 1 });
        using var client = corral.Client();
        using var holder = new CancellationTokenSource();
        using var running = await client.PostJsonAsync("/api/generate", Stream(100), HttpCompletionOption.ResponseHeadersRead, holder.Token);
        var queued = client.PostJsonAsync("/api/generate", Stream(1), cancellationToken: holder.Token);
        await Eventually.WaitUntilAsync(async () => await corral.QueueDepthAsync() == 1, "the second request waits in the queue");

        using var native = await client.PostJsonAsync("/api/generate", Stream(1));
        using var openAi = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""");

        native.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        native.Headers.RetryAfter!.Delta.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1));
        (await native.ErrorAsync()).Should().Be("server busy, please try again.  maximum pending requests exceeded");
        openAi.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        openAi.Headers.RetryAfter.Should().NotBeNull();
        var error = (await openAi.JsonAsync()).GetProperty("error");
        error.GetProperty("message").GetString().Should().StartWith("server busy");
        error.GetProperty("code").GetString().Should().Be("server_busy");
        a.Received("/api/generate").Should().HaveCount(1, "nothing beyond the running request reached the backend");
        await holder.CancelAsync();
        await FluentActions.Awaiting(() => queued).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Queue_WaitLongerThanTheQueueTimeout_503WithRetryAfter()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 5);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { QueueTimeout = TimeSpan.FromMilliseconds(200) });
        using var client = corral.Client();
        using var holder = new CancellationTokenSource();
        using var running = await client.PostJsonAsync("/api/generate", Stream(100), HttpCompletionOption.ResponseHeadersRead, holder.Token);

        using var late = await client.PostJsonAsync("/api/generate", Stream(1));

        late.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        late.Headers.RetryAfter.Should().NotBeNull();
        (await late.ErrorAsync()).Should().Contain("server busy, please try again.").And.Contain("0.2 s");
        await holder.CancelAsync();
    }

    [Fact]
    public async Task Queue_ClientLeavesWhileWaiting_LeavesTheQueueAndNeverReachesTheBackend()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 20);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();
        using var running = await client.PostJsonAsync("/api/generate", Stream(10), HttpCompletionOption.ResponseHeadersRead);
        using var leaving = new CancellationTokenSource();
        var queued = client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"the one that leaves"}""", cancellationToken: leaving.Token);
        await Eventually.WaitUntilAsync(async () => await corral.QueueDepthAsync() == 1, "the second request waits in the queue");

        await leaving.CancelAsync();
        await FluentActions.Awaiting(() => queued).Should().ThrowAsync<OperationCanceledException>();
        await Eventually.WaitUntilAsync(async () => await corral.QueueDepthAsync() == 0, "the request that left is out of the queue");
        (await running.NdjsonAsync()).Last().GetProperty("done").GetBoolean().Should().BeTrue();

        a.Received("/api/generate").Should().HaveCount(1);
    }

    [Fact]
    public async Task Shutdown_StreamsFinishWithinTheDrainAndAreEndedWithAnErrorLineAfterIt()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.Parallel) = (10, 2));
        var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a") with { MaxConcurrency = 2 }], s => s with { DrainTimeout = TimeSpan.FromMilliseconds(800) });
        using var client = corral.Client();
        var shortStream = ReadStreamAsync(client, Stream(3));
        var longStream = ReadStreamAsync(client, Stream(100));
        await Eventually.WaitUntilAsync(() => a.ActiveRequests == 2, "both streams are running");

        var clock = Stopwatch.StartNew();
        await corral.DisposeAsync();
        var stopped = clock.Elapsed;

        var (finished, cut) = (await shortStream, await longStream);
        finished.Done.Should().BeTrue("a stream that ends within the drain deadline is not disturbed");
        finished.Error.Should().BeNull();
        cut.Error.Should().Contain("shutting down").And.Contain("drain deadline");
        stopped.Should().BeLessThan(TimeSpan.FromSeconds(5), "Corral stops soon after the drain deadline, not when the long stream would have ended");
        output.WriteLine($"shutdown took {stopped.TotalMilliseconds:0} ms with an 800 ms drain deadline");
    }

    private static async Task<StreamResult> ReadStreamAsync(HttpClient client, string body, Action<string?>? firstLine = null)
    {
        using var response = await client.PostJsonAsync("/api/generate", body, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new StreamResult(response.StatusCode, response.Backend(), Done: false, Error: await response.ErrorAsync());
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<JsonElement>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (lines.Count == 0)
            {
                firstLine?.Invoke(response.Backend());
            }

            lines.Add(JsonDocument.Parse(line).RootElement.Clone());
        }

        var last = lines[^1];
        var error = last.TryGetProperty("error", out var e) ? e.GetString() : null;
        var done = last.TryGetProperty("done", out var d) && d.GetBoolean();
        return new StreamResult(response.StatusCode, response.Backend(), done, error);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private sealed record StreamResult(HttpStatusCode Status, string? Backend, bool Done, string? Error);
}
