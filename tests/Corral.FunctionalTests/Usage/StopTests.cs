using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Corral.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Corral.FunctionalTests.Usage;

/// <summary>
/// What a stop leaves of the usage records, with Corral as its own process: a SIGTERM under load loses none, a
/// SIGKILL at most the last second of them.
/// </summary>
public sealed class StopTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "corral-stop-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // Temp folder; a leftover is harmless.
        }
    }

    [Fact]
    public async Task Sigterm_UnderLoad_EveryRequestThatReachedCorralIsRecorded()
    {
        // Four slots and twelve streams of about a second each: four stream, eight wait in Corral's queue.
        await using var backend = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.Parallel) = (40, 4));
        await using (var corral = await CorralProcess.StartAsync(backend.BaseAddress, _data, "--max-concurrency", "4", "--drain-timeout", "20"))
        {
            using var client = corral.Client();
            for (var i = 0; i < 30; i++)
            {
                (await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"quick"}],"stream":false,"options":{"num_predict":2}}""")).EnsureSuccessStatusCode();
            }

            var streams = Enumerable.Range(0, 12).Select(_ => ReadToEndAsync(client, """{"model":"llama3.2","prompt":"long","options":{"num_predict":40}}""")).ToArray();
            await Eventually.WaitUntilAsync(() => backend.Received("/api/generate").Length >= 4, "four streams are under way");
            await Eventually.WaitUntilAsync(async () => (await QueueDepthAsync(client)) == 8, "eight wait in the queue");

            await corral.TerminateAsync(TimeSpan.FromSeconds(60));
            var lines = await Task.WhenAll(streams);
            lines.Should().AllSatisfy(l => l.Should().Be(41, "a stream under way at SIGTERM finishes within the drain deadline"));
        }

        await using var restarted = await CorralProcess.StartAsync(backend.BaseAddress, _data);
        var records = await restarted.UsageRequestsAsync();
        var routes = records.Select(r => r.GetProperty("route").GetString()).ToArray();
        routes.Count(r => r == "/api/chat").Should().Be(30);
        routes.Count(r => r == "/api/generate").Should().Be(12, "the requests streaming or queued at SIGTERM were recorded too");
        records.Where(r => r.GetProperty("route").GetString() == "/api/generate").Should().OnlyContain(r => r.GetProperty("completionTokens").GetInt32() == 40);
    }

    [Fact]
    public async Task Sigkill_UnderLoad_LosesAtMostTheLastSecond()
    {
        await using var backend = await Sim.StartAsync("llama3.2");
        var completed = new ConcurrentQueue<DateTimeOffset>();
        DateTimeOffset killedAt;
        await using (var corral = await CorralProcess.StartAsync(backend.BaseAddress, _data))
        {
            using var client = corral.Client();
            var clock = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var senders = Enumerable.Range(0, 4).Select(async _ =>
            {
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        using var response = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"stream":false,"options":{"num_predict":1}}""", cancellationToken: stop.Token);
                        if (response.StatusCode == HttpStatusCode.OK)
                        {
                            completed.Enqueue(DateTimeOffset.UtcNow);
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                    {
                        return;
                    }
                }
            }).ToArray();
            await Eventually.WaitUntilAsync(() => clock.Elapsed > TimeSpan.FromSeconds(3) && completed.Count > 100, "three seconds of load");

            killedAt = DateTimeOffset.UtcNow;
            await corral.KillAsync();
            await stop.CancelAsync();
            await Task.WhenAll(senders);
        }

        await using var restarted = await CorralProcess.StartAsync(backend.BaseAddress, _data);
        var recorded = (await restarted.UsageRequestsAsync()).Count(r => r.GetProperty("route").GetString() == "/api/chat");
        var olderThanASecond = completed.Count(t => t < killedAt - TimeSpan.FromSeconds(1));
        output.WriteLine($"SIGKILL after {completed.Count} answered requests: {recorded} recorded, {completed.Count - recorded} lost; {olderThanASecond} answered more than 1 s before the kill");

        recorded.Should().BeGreaterThanOrEqualTo(olderThanASecond, "every record older than a second was written before the kill");
        recorded.Should().BeLessThanOrEqualTo(completed.Count);
    }

    private static async Task<int> ReadToEndAsync(HttpClient client, string body)
    {
        using var response = await client.PostJsonAsync("/api/generate", body, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static async Task<int> QueueDepthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/admin/api/backends");
        return (await response.JsonAsync()).GetProperty("queueDepth").GetInt32();
    }
}
