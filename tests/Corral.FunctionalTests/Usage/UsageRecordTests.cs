using System.Net;
using System.Text;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Usage;

/// <summary>
/// The usage record of each request matches what its client saw: route, model, backend, status, the tokens of the
/// backend's final metrics, bytes, attempts, and whether the client left. Records are taken as the observers get them.
/// </summary>
public sealed class UsageRecordTests
{
    private const string Chat = """{"model":"llama3.2","messages":[{"role":"user","content":"tell me something"}],"stream":false}""";

    private static async Task<(CorralInstance Corral, RecordedUsage Usage)> StartAsync(IEnumerable<Corral.Fleet.BackendOptions> backends, Func<Corral.Hosting.CorralSettings, Corral.Hosting.CorralSettings>? configure = null)
    {
        var usage = new RecordedUsage();
        var corral = await CorralInstance.StartAsync(backends, configure, services: s => s.AddSingleton<IUsageObserver>(usage));
        return (corral, usage);
    }

    [Fact]
    public async Task NativeChat_NotStreamed_RecordHasTheTokensBytesAndBackendTheClientSaw()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a")]);
        await using var _ = corral;
        var key = await corral.CreateKeyAsync("user", "laptop");
        using var client = corral.Client(key);

        using var response = await client.PostJsonAsync("/api/chat", Chat);
        var body = await response.Content.ReadAsByteArrayAsync();
        using var answer = JsonDocument.Parse(body);

        var record = await usage.SingleAsync("/api/chat");
        record.Status.Should().Be(200);
        record.KeyName.Should().Be("laptop");
        record.KeyId.Should().StartWith("key_");
        record.Model.Should().Be("llama3.2");
        record.ResolvedModel.Should().Be("llama3.2:latest");
        record.Backend.Should().Be("a");
        record.Attempts.Should().Be(1);
        record.PromptTokens.Should().Be(answer.RootElement.GetProperty("prompt_eval_count").GetInt32()).And.BePositive();
        record.CompletionTokens.Should().Be(answer.RootElement.GetProperty("eval_count").GetInt32()).And.BePositive();
        record.BytesIn.Should().Be(Encoding.UTF8.GetByteCount(Chat));
        record.BytesOut.Should().Be(body.Length);
        record.Error.Should().BeNull();
        record.Cancelled.Should().BeFalse();
        record.TtftMs.Should().NotBeNull().And.BeLessThanOrEqualTo(record.DurationMs);
        record.OverheadMs.Should().BeLessThan(record.DurationMs);
        var overhead = double.Parse(response.Headers.GetValues("X-Corral-Overhead-Ms").Single(), System.Globalization.CultureInfo.InvariantCulture);
        overhead.Should().BeGreaterThanOrEqualTo(0).And.BeLessThan(record.DurationMs);
    }

    [Fact]
    public async Task NativeGenerate_Streamed_TokensFromTheFinalLineBytesAsReceived()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a")]);
        await using var _ = corral;
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"count to ten","options":{"num_predict":25}}""");
        var body = await response.Content.ReadAsByteArrayAsync();
        var final = Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        using var last = JsonDocument.Parse(final);

        var record = await usage.SingleAsync("/api/generate");
        record.Status.Should().Be(200);
        record.PromptTokens.Should().Be(last.RootElement.GetProperty("prompt_eval_count").GetInt32());
        record.CompletionTokens.Should().Be(last.RootElement.GetProperty("eval_count").GetInt32()).And.Be(25);
        record.BytesOut.Should().Be(body.Length);
        record.KeyId.Should().Be(Corral.Access.KeyRing.ConfiguredAdminId);
    }

    [Fact]
    public async Task OpenAiChat_StreamedAndNot_TokensAsTheUsageTheClientGot()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a")]);
        await using var _ = corral;
        using var client = corral.Client();

        using var whole = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi there"}]}""");
        var wholeUsage = (await whole.JsonAsync()).GetProperty("usage");
        using var streamed = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi there"}],"stream":true,"stream_options":{"include_usage":true}}""");
        var frames = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        using var usageFrame = JsonDocument.Parse(frames[^2]["data: ".Length..]);
        var streamedUsage = usageFrame.RootElement.GetProperty("usage");

        var records = await usage.WaitForAsync("/v1/chat/completions", 2);
        records[0].PromptTokens.Should().Be(wholeUsage.GetProperty("prompt_tokens").GetInt32());
        records[0].CompletionTokens.Should().Be(wholeUsage.GetProperty("completion_tokens").GetInt32());
        records[1].PromptTokens.Should().Be(streamedUsage.GetProperty("prompt_tokens").GetInt32());
        records[1].CompletionTokens.Should().Be(streamedUsage.GetProperty("completion_tokens").GetInt32()).And.BePositive();
        records.Should().AllSatisfy(r =>
        {
            r.Status.Should().Be(200);
            r.ResolvedModel.Should().Be("llama3.2:latest");
            r.Backend.Should().Be("a");
            r.TtftMs.Should().NotBeNull("a backend answered, translated or not");
        });
    }

    [Fact]
    public async Task Embed_NativeAndOpenAi_PromptTokensRecorded()
    {
        await using var a = await Sim.StartAsync("all-minilm");
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a")]);
        await using var _ = corral;
        using var client = corral.Client();

        using var native = await client.PostJsonAsync("/api/embed", """{"model":"all-minilm","input":["one text","another text"]}""");
        var promptTokens = (await native.JsonAsync()).GetProperty("prompt_eval_count").GetInt32();
        using var openAi = await client.PostJsonAsync("/v1/embeddings", """{"model":"all-minilm","input":["one text","another text"]}""");
        var openAiTokens = (await openAi.JsonAsync()).GetProperty("usage").GetProperty("prompt_tokens").GetInt32();

        (await usage.SingleAsync("/api/embed")).PromptTokens.Should().Be(promptTokens).And.BePositive();
        (await usage.SingleAsync("/v1/embeddings")).PromptTokens.Should().Be(openAiTokens);
    }

    [Fact]
    public async Task Failover_RefusedThenAnswered_TwoAttemptsOnTheBackendThatAnswered()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        var (corral, usage) = await StartAsync(
            [CorralInstance.Backend(a, "a") with { Priority = 0 }, CorralInstance.Backend(b, "b") with { Priority = 1 }],
            s => s with { HealthInterval = TimeSpan.FromMinutes(5) });
        await using var _ = corral;
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        await Eventually.WaitUntilAsync(async () => (await corral.BackendAsync("a")).GetProperty("latencyMs").ValueKind == JsonValueKind.Number, "a was checked once");
        await a.StopAsync();

        using var response = await client.PostJsonAsync("/api/chat", Chat);
        response.StatusCode.Should().Be(HttpStatusCode.OK);

        var record = await usage.SingleAsync("/api/chat");
        record.Status.Should().Be(200);
        record.Backend.Should().Be("b");
        record.Attempts.Should().Be(2);
        record.FailedOver.Should().Equal("a");
        record.CompletionTokens.Should().BePositive();
    }

    [Fact]
    public async Task QueueFull_503_RecordedWithOllamasWordsAndNoTokens()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 20);
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a") with { MaxConcurrency = 1 }], s => s with { QueueLength = 0 });
        await using var _ = corral;
        using var client = corral.Client();

        using var running = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"go","options":{"num_predict":40}}""", HttpCompletionOption.ResponseHeadersRead);
        using var refused = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"me too","stream":false}""");
        refused.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        await running.Content.ReadAsStringAsync();

        var records = await usage.WaitForAsync("/api/generate", 2);
        var busy = records.Single(r => r.Status == 503);
        busy.Error.Should().Be("server busy, please try again.  maximum pending requests exceeded");
        busy.PromptTokens.Should().Be(0);
        busy.CompletionTokens.Should().Be(0);
        busy.Attempts.Should().Be(0, "no backend was called");
        busy.Backend.Should().BeNull();
        records.Single(r => r.Status == 200).CompletionTokens.Should().Be(40);
    }

    [Fact]
    public async Task Refusals_401And404_RecordedWithWhatTheClientGot()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a")]);
        await using var _ = corral;
        using var anonymous = corral.Client(key: null);
        using var client = corral.Client();

        (await anonymous.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var missing = await client.PostJsonAsync("/v1/chat/completions", """{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}""");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);

        var unauthorized = await usage.SingleAsync("/api/chat");
        unauthorized.Status.Should().Be(401);
        unauthorized.KeyId.Should().BeNull();
        unauthorized.Error.Should().Be("unauthorized");
        var notFound = await usage.SingleAsync("/v1/chat/completions");
        notFound.Status.Should().Be(404);
        notFound.Model.Should().Be("no-such-model");
        notFound.ResolvedModel.Should().BeNull();
        notFound.Backend.Should().BeNull();
        notFound.Error.Should().Be((await missing.JsonAsync()).GetProperty("error").GetProperty("message").GetString());
        a.ReceivedBesidesHealthChecks().Should().OnlyContain(e => e.Path == "/api/tags", "neither request reached the backend");
    }

    [Fact]
    public async Task ClientLeaves_MidStreamAndWhileQueued_RecordedAsCancelled()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 20);
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a") with { MaxConcurrency = 1 }]);
        await using var _ = corral;
        using var client = corral.Client();

        // One stream that the client drops after its first line, and one request waiting behind it that is dropped too.
        using var leaving = new CancellationTokenSource();
        using var streaming = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"go","options":{"num_predict":200}}""", HttpCompletionOption.ResponseHeadersRead);
        var stream = await streaming.Content.ReadAsStreamAsync();
        var first = new byte[1];
        (await stream.ReadAsync(first)).Should().Be(1);
        var queued = client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"wait","stream":false}""", cancellationToken: leaving.Token);
        await Eventually.WaitUntilAsync(async () => await corral.QueueDepthAsync() == 1, "the second request waits in the queue");
        await leaving.CancelAsync();
        await FluentActions.Awaiting(() => queued).Should().ThrowAsync<OperationCanceledException>();
        streaming.Dispose();

        var records = await usage.WaitForAsync("/api/generate", 2);
        var cut = records.Single(r => r.Attempts == 1);
        cut.Cancelled.Should().BeTrue();
        cut.Status.Should().Be(200, "the answer had started when the client left");
        cut.CompletionTokens.Should().Be(0, "the final metrics line never came");
        var left = records.Single(r => r.Attempts == 0);
        left.Cancelled.Should().BeTrue();
        left.Status.Should().Be(UsageRecorder.ClientClosedRequest);
        left.QueueMs.Should().BePositive();
    }

    [Fact]
    public async Task EndUsers_OnlyKeysAllowedToNameThemAreBelieved()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage) = await StartAsync([CorralInstance.Backend(a, "a")]);
        await using var _ = corral;
        var webui = await corral.CreateKeyAsync("user", "open-webui", assertsUsers: true);
        var plain = await corral.CreateKeyAsync("user", "someone");

        foreach (var key in new[] { webui, plain })
        {
            using var client = corral.Client(key);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent(Chat, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-OpenWebUI-User-Id", "8c1e6a0e-0000-4000-8000-000000000001");
            request.Headers.Add("X-OpenWebUI-User-Name", "Ada%20Lovelace");
            request.Headers.Add("X-OpenWebUI-User-Email", "ada@example.org");
            (await client.SendAsync(request)).EnsureSuccessStatusCode();
            (await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"x"}],"user":"grace"}""")).EnsureSuccessStatusCode();
        }

        var native = await usage.WaitForAsync("/api/chat", 2);
        native.Single(r => r.KeyName == "open-webui").User.Should().Be("ada@example.org");
        native.Single(r => r.KeyName == "someone").User.Should().BeNull("a key that may not name users cannot bill someone else");
        var openAi = await usage.WaitForAsync("/v1/chat/completions", 2);
        openAi.Single(r => r.KeyName == "open-webui").User.Should().Be("grace");
        openAi.Single(r => r.KeyName == "someone").User.Should().BeNull();
    }

    [Fact]
    public async Task Bodies_KeptOnlyWithLogBodiesAndTheRequestLogOn()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (quiet, quietUsage) = await StartAsync([CorralInstance.Backend(a, "a")], s => s with { RequestLog = Corral.Hosting.RequestLogFormat.Json, RequestLogStream = Stream.Null });
        await using (quiet)
        {
            using var client = quiet.Client();
            (await client.PostJsonAsync("/api/chat", Chat)).EnsureSuccessStatusCode();
            var record = await quietUsage.SingleAsync("/api/chat");
            record.RequestBody.Should().BeNull();
            record.ResponseText.Should().BeNull();
        }

        var (logging, usage) = await StartAsync([CorralInstance.Backend(a, "a")], s => s with { RequestLog = Corral.Hosting.RequestLogFormat.Json, RequestLogStream = Stream.Null, LogBodies = true });
        await using (logging)
        {
            using var client = logging.Client();
            using var response = await client.PostJsonAsync("/api/chat", Chat);
            var answer = await response.Content.ReadAsStringAsync();
            var record = await usage.SingleAsync("/api/chat");
            record.RequestBody.Should().Be(Chat);
            record.ResponseText.Should().Be(answer);
        }
    }

    [Fact]
    public async Task OverheadHeader_OnEveryAnswer()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, _) = await StartAsync([CorralInstance.Backend(a, "a")]);
        await using var _ = corral;
        using var client = corral.Client();

        foreach (var path in new[] { "/api/tags", "/v1/models", "/admin/api/backends", "/healthz", "/no/such/route" })
        {
            using var response = await client.GetAsync(path);
            response.Headers.TryGetValues("X-Corral-Overhead-Ms", out var values).Should().BeTrue($"{path} carries it");
            double.Parse(values!.Single(), System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(0);
        }
    }
}
