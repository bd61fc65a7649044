using System.Text;
using Corral.Hosting;
using Corral.Usage;
using Prometheus;

namespace Corral.Tests.Usage;

public sealed class RequestMetricsTests
{
    private static readonly (string, string)[] s_chat = [("route", "/api/chat"), ("model", "llama3.2:latest"), ("backend", "gpu1")];

    [Fact]
    public async Task Observe_AnsweredRequest_CountsItAndItsTimesAndTokens()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new RequestMetrics(registry, new CorralSettings());

        metrics.Observe(Record() with { PromptTokens = 26, CompletionTokens = 31, QueueMs = 250, TtftMs = 1500, DurationMs = 4000 });
        metrics.Observe(Record() with { PromptTokens = 4, CompletionTokens = 1, DurationMs = 20 });

        var page = await PageAsync(registry);
        page.Value("corral_requests_total", [.. s_chat, ("status", "200")]).Should().Be(2);
        page.Value("corral_tokens_total", ("type", "prompt"), ("model", "llama3.2:latest"), ("backend", "gpu1")).Should().Be(30);
        page.Value("corral_tokens_total", ("type", "completion"), ("model", "llama3.2:latest"), ("backend", "gpu1")).Should().Be(32);
        page.Value("corral_request_duration_seconds_sum", s_chat).Should().BeApproximately(4.02, 1e-9);
        page.Value("corral_request_duration_seconds_bucket", [.. s_chat, ("le", "0.025")]).Should().Be(1);
        page.Value("corral_request_duration_seconds_bucket", [.. s_chat, ("le", "5")]).Should().Be(2);
        page.Value("corral_request_duration_seconds_bucket", [.. s_chat, ("le", "600")]).Should().Be(2);
        page.Value("corral_time_to_first_token_seconds_count", s_chat).Should().Be(1, "only the record with a first byte has one");
        page.Value("corral_time_to_first_token_seconds_sum", s_chat).Should().Be(1.5);
        page.Value("corral_queue_wait_seconds_count", s_chat).Should().Be(2, "both were sent to a backend, one without waiting");
        page.Value("corral_queue_wait_seconds_sum", s_chat).Should().Be(0.25);
    }

    [Fact]
    public async Task Observe_ModelNotFound_EmptyModelLabel_NeverTheClientsString()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new RequestMetrics(registry, new CorralSettings());

        metrics.Observe(Record() with { Model = "no-such-model-42", ResolvedModel = null, Backend = null, Status = 404, Attempts = 0 });

        var page = await PageAsync(registry);
        page.Value("corral_requests_total", ("route", "/api/chat"), ("model", ""), ("backend", ""), ("status", "404")).Should().Be(1);
        page.Text.Should().NotContain("no-such-model-42");
        page.Of("corral_queue_wait_seconds_count").Should().BeEmpty("it reached no backend and never queued");
        page.Of("corral_tokens_total").Should().BeEmpty("no token series appears before a record carries tokens");
        page.Of("corral_time_to_first_token_seconds_count").Should().BeEmpty();
    }

    [Fact]
    public async Task Observe_PerKey_KeyLabelOnRequestsAndTokensOnly()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new RequestMetrics(registry, new CorralSettings { MetricsPerKey = true });

        metrics.Observe(Record() with { KeyName = "laptop", PromptTokens = 3 });
        metrics.Observe(Record() with { KeyName = "ci", PromptTokens = 5 });
        metrics.Observe(Record() with { KeyName = null, Status = 401, Backend = null, ResolvedModel = null, Attempts = 0 });

        var page = await PageAsync(registry);
        page.Value("corral_requests_total", [.. s_chat, ("status", "200"), ("key", "laptop")]).Should().Be(1);
        page.Value("corral_requests_total", [.. s_chat, ("status", "200"), ("key", "ci")]).Should().Be(1);
        page.Value("corral_requests_total", ("route", "/api/chat"), ("model", ""), ("backend", ""), ("status", "401"), ("key", "")).Should().Be(1);
        page.Value("corral_tokens_total", ("type", "prompt"), ("model", "llama3.2:latest"), ("backend", "gpu1"), ("key", "ci")).Should().Be(5);
        page.Value("corral_request_duration_seconds_count", s_chat).Should().Be(2, "latencies are not split per key");
    }

    [Fact]
    public async Task Observe_NotPerKey_NoKeyLabelAnywhere()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new RequestMetrics(registry, new CorralSettings());

        metrics.Observe(Record() with { KeyName = "laptop", PromptTokens = 3, CompletionTokens = 1 });

        var page = await PageAsync(registry);
        page.Samples.Should().NotBeEmpty().And.OnlyContain(s => !s.Labels.ContainsKey("key"));
        page.Text.Should().NotContain("laptop");
    }

    [Fact]
    public async Task Observe_FailedOver_CountsEachBackendThatFailed()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new RequestMetrics(registry, new CorralSettings());

        metrics.Observe(Record() with { Backend = "gpu3", Attempts = 3, FailedOver = ["gpu1", "gpu2"] });
        metrics.Observe(Record() with { Backend = "gpu2", Attempts = 2, FailedOver = ["gpu1"] });

        var page = await PageAsync(registry);
        page.Value("corral_failovers_total", ("backend", "gpu1")).Should().Be(2);
        page.Value("corral_failovers_total", ("backend", "gpu2")).Should().Be(1);
        page.Value("corral_failovers_total", ("backend", "gpu3")).Should().BeNull();
    }

    internal static UsageRecord Record() => new()
    {
        Time = DateTimeOffset.UnixEpoch,
        KeyId = "key_1",
        KeyName = "laptop",
        Route = "/api/chat",
        Model = "llama3.2",
        ResolvedModel = "llama3.2:latest",
        Backend = "gpu1",
        Status = 200,
        Attempts = 1,
        DurationMs = 10,
    };

    internal static async Task<MetricsPage> PageAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        return MetricsPage.Parse(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
