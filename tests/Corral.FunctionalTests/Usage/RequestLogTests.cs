using System.Globalization;
using System.Net;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Hosting;

namespace Corral.FunctionalTests.Usage;

/// <summary>The request log of a real Corral: one JSON line per request with its record's fields, and nothing secret.</summary>
public sealed class RequestLogTests
{
    private const string NativeChat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":4}}""";
    private const string OpenAiChat = """{"model":"llama3.2","messages":[{"role":"user","content":"hello there"}],"max_tokens":5}""";

    private static readonly string[] s_fields =
    [
        "time", "keyId", "keyName", "user", "route", "model", "resolvedModel", "backend", "status", "error", "promptTokens",
        "completionTokens", "queueMs", "ttftMs", "durationMs", "overheadMs", "bytesIn", "bytesOut", "attempts", "cancelled",
    ];

    [Fact]
    public async Task NativeAndOpenAiRequests_OneLineEach_WithTheirRecordsFields()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log);
        using var user = corral.Client(await corral.CreateKeyAsync("user", "laptop"));
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        (await user.PostJsonAsync("/ollama/api/chat", NativeChat)).EnsureSuccessStatusCode();
        var lines = await log.WaitForLinesAsync(1);
        using var openAi = await user.PostJsonAsync("/v1/chat/completions", OpenAiChat);
        openAi.EnsureSuccessStatusCode();
        var usage = (await openAi.JsonAsync()).GetProperty("usage");
        lines = await log.WaitForLinesAsync(2);
        using var missing = await user.PostJsonAsync("/api/chat", """{"model":"nope","messages":[]}""");
        lines = await log.WaitForLinesAsync(3);

        lines.Should().HaveCount(3, "the key creation and the admin API make no line; each request makes one");
        lines.Should().OnlyContain(l => l.EnumerateObject().Select(p => p.Name).SequenceEqual(s_fields), "every field, in order, and no body without --log-bodies");
        var native = lines[0];
        DateTimeOffset.Parse(native.GetProperty("time").GetString()!, CultureInfo.InvariantCulture).Should().BeAfter(before).And.BeBefore(DateTimeOffset.UtcNow);
        native.GetProperty("time").GetString().Should().EndWith("Z");
        native.GetProperty("keyId").GetString().Should().StartWith("key_");
        native.GetProperty("keyName").GetString().Should().Be("laptop");
        native.GetProperty("user").ValueKind.Should().Be(JsonValueKind.Null);
        native.GetProperty("route").GetString().Should().Be("/api/chat", "the /ollama door is not part of the route");
        native.GetProperty("model").GetString().Should().Be("llama3.2");
        native.GetProperty("resolvedModel").GetString().Should().Be("llama3.2:latest");
        native.GetProperty("backend").GetString().Should().Be("a");
        native.GetProperty("status").GetInt32().Should().Be(200);
        native.GetProperty("error").ValueKind.Should().Be(JsonValueKind.Null);
        native.GetProperty("durationMs").GetDouble().Should().BeGreaterThan(0);
        // The pipeline sets the time to first byte of the records it measures; the line has it exactly then.
        if (native.GetProperty("ttftMs").ValueKind != JsonValueKind.Null)
        {
            native.GetProperty("ttftMs").GetDouble().Should().BeGreaterThan(0).And.BeLessThanOrEqualTo(native.GetProperty("durationMs").GetDouble());
        }

        native.GetProperty("bytesIn").GetInt64().Should().Be(NativeChat.Length);
        native.GetProperty("attempts").GetInt32().Should().Be(1);
        native.GetProperty("cancelled").GetBoolean().Should().BeFalse();

        var chat = lines[1];
        chat.GetProperty("route").GetString().Should().Be("/v1/chat/completions");
        chat.GetProperty("resolvedModel").GetString().Should().Be("llama3.2:latest");
        chat.GetProperty("promptTokens").GetInt32().Should().Be(usage.GetProperty("prompt_tokens").GetInt32()).And.BeGreaterThan(0);
        chat.GetProperty("completionTokens").GetInt32().Should().Be(usage.GetProperty("completion_tokens").GetInt32()).And.BeGreaterThan(0);

        var notFound = lines[2];
        notFound.GetProperty("status").GetInt32().Should().Be(404);
        notFound.GetProperty("model").GetString().Should().Be("nope");
        notFound.GetProperty("resolvedModel").ValueKind.Should().Be(JsonValueKind.Null);
        notFound.GetProperty("backend").ValueKind.Should().Be(JsonValueKind.Null);
        notFound.GetProperty("ttftMs").ValueKind.Should().Be(JsonValueKind.Null, "no backend answered");
        notFound.GetProperty("attempts").GetInt32().Should().Be(0);
        notFound.GetProperty("error").GetString().Should().Be(await missing.ErrorAsync());
    }

    [Fact]
    public async Task RequestLogOff_WritesNothing()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using (var corral = await StartAsync(a, log, s => s with { RequestLog = RequestLogFormat.Off, LogBodies = true }))
        {
            using var client = corral.Client();
            (await client.PostJsonAsync("/api/chat", NativeChat)).EnsureSuccessStatusCode();
            (await client.PostJsonAsync("/v1/chat/completions", OpenAiChat)).EnsureSuccessStatusCode();
        }

        log.Text.Should().BeEmpty();
    }

    [Fact]
    public async Task NoKeyMaterial_EverAppears()
    {
        const string metricsToken = "scrape-token-0123456789abcdef";
        const string wrongKey = "corral_this-is-not-a-key-but-looks-like-one";
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        string userKey;
        await using (var corral = await StartAsync(a, log, s => s with { MetricsToken = metricsToken }))
        {
            userKey = await corral.CreateKeyAsync("user", "laptop");
            foreach (var key in new[] { CorralInstance.AdminKey, userKey, metricsToken, wrongKey })
            {
                using var client = corral.Client(key);
                await client.PostJsonAsync("/api/chat", NativeChat);
                await client.PostJsonAsync("/v1/chat/completions", OpenAiChat);
                await client.GetAsync("/metrics");
            }

            await log.WaitForLinesAsync(8);
        }

        var text = log.Text;
        text.Should().NotContain(CorralInstance.AdminKey).And.NotContain(userKey).And.NotContain(metricsToken).And.NotContain(wrongKey);
        var lines = log.JsonLines();
        lines.Should().HaveCount(8, "two requests per key; /metrics makes no line");
        lines.Count(l => l.GetProperty("status").GetInt32() == 401).Should().Be(4, "the metrics token and the wrong key are no keys of the surfaces");
        lines.Where(l => l.GetProperty("status").GetInt32() == 401).Should().OnlyContain(l => l.GetProperty("keyId").ValueKind == JsonValueKind.Null);
    }

    [Fact]
    public async Task Bodies_OnlyWhenTheRecordCarriesThem()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log, s => s with { LogBodies = true });
        using var client = corral.Client();

        (await client.PostJsonAsync("/api/chat", NativeChat)).EnsureSuccessStatusCode();
        var line = (await log.WaitForLinesAsync(1))[0];

        // The pipeline fills the bodies of a record with --log-bodies; the log writes them exactly when it has them.
        if (line.TryGetProperty("requestBody", out var body))
        {
            body.GetString().Should().Be(NativeChat);
        }

        line.EnumerateObject().Select(p => p.Name).Should().StartWith(s_fields).And.BeSubsetOf([.. s_fields, "requestBody", "responseText"]);
    }

    [Fact]
    public async Task Shutdown_WritesEveryLineStillQueued()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using (var corral = await StartAsync(a, log))
        {
            using var client = corral.Client();
            var requests = Enumerable.Range(0, 40).Select(_ => client.PostJsonAsync("/api/chat", NativeChat)).ToArray();
            (await Task.WhenAll(requests)).Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK);
        }

        log.JsonLines().Should().HaveCount(40);
        log.Text.Should().EndWith("\n");
    }

    private static Task<CorralInstance> StartAsync(Corral.Simulator.SimulatedOllama backend, CapturedStream log, Func<CorralSettings, CorralSettings>? configure = null) =>
        CorralInstance.StartAsync([CorralInstance.Backend(backend, "a")], s =>
        {
            s = s with { RequestLog = RequestLogFormat.Json, RequestLogStream = log };
            return configure?.Invoke(s) ?? s;
        });
}
