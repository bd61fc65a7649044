using System.Net;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Native;

/// <summary>Streams reach the client line by line, and a client that leaves stops the backend.</summary>
public sealed class StreamingTests
{
    [Fact]
    public async Task Generate_Stream_FirstLineArrivesWhileTheBackendIsStillGenerating()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 10);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"tell me","options":{"num_predict":10}}""", HttpCompletionOption.ResponseHeadersRead);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        var entry = a.Received("/api/generate").Single();

        entry.Completed.IsCompleted.Should().BeFalse("the first line must be relayed before the backend finishes (no buffering)");
        JsonDocument.Parse(first!).RootElement.GetProperty("done").GetBoolean().Should().BeFalse();

        var rest = await reader.ReadToEndAsync();
        var lines = rest.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(10, "nine more tokens and the final metrics line");
        JsonDocument.Parse(lines[^1]).RootElement.GetProperty("done").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task StreamedAnswers_TellProxiesNotToBuffer_NativeOpenAiAndPull_WholeAnswersDoNot()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var native = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":2}}""");
        using var sse = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"max_tokens":2,"stream":true}""");
        using var pull = await client.PostJsonAsync("/api/pull", """{"model":"phi3"}""");
        using var whole = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":2}}""");

        foreach (var (what, response) in new[] { ("native stream", native), ("SSE", sse), ("pull progress", pull) })
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK, what);
            response.Headers.GetValues("X-Accel-Buffering").Should().Equal(["no"], what);
            response.Headers.CacheControl!.NoCache.Should().BeTrue(what);
        }

        whole.Headers.Contains("X-Accel-Buffering").Should().BeFalse("a whole answer is not streamed");
    }

    [Fact]
    public async Task Chat_ClientDisconnects_BackendRequestIsCancelled()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 5);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        var response = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"go on"}],"options":{"num_predict":500}}""", HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var reader = new StreamReader(stream);
        (await reader.ReadLineAsync()).Should().NotBeNull();
        var entry = a.Received("/api/chat").Single();

        response.Dispose();

        await entry.Aborted.WaitAsync(TimeSpan.FromSeconds(15));
        entry.ClientAborted.Should().BeTrue();
    }

    [Fact]
    public async Task Stream_BackendDiesMidStream_EndsWithAnErrorLineNamingTheBackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        a.Faults.DieAfterLines = 2;
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"x","options":{"num_predict":10}}""");
        var lines = await response.NdjsonAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        lines.Should().HaveCountGreaterThanOrEqualTo(3);
        lines[^1].GetProperty("error").GetString().Should().Contain("backend 'a'").And.Contain("mid-stream");
    }

    [Fact]
    public async Task Stream_BackendSendsAnErrorLine_ItReachesTheClientVerbatim()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        a.Faults.ErrorAfterLines = 2;
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"x"}]}""");
        var lines = await response.NdjsonAsync();

        lines.Should().HaveCount(3);
        lines[^1].GetProperty("error").GetString().Should().Be("an error was encountered while running the model");
    }
}
