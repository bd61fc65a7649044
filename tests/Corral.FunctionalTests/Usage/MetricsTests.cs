using System.Net;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Usage;

/// <summary>
/// <c>GET /metrics</c> on a real Corral in front of simulated backends: the page is valid for Prometheus's own
/// parser, shows the requests a user sent with the labels they would query, and only admins and the metrics token
/// may read it.
/// </summary>
public sealed class MetricsTests
{
    private const string MetricsToken = "scrape-token-0123456789abcdef";
    private const string NativeChat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":4}}""";
    private const string OpenAiChat = """{"model":"qwen3","messages":[{"role":"user","content":"hello there"}],"max_tokens":5}""";

    private static readonly (string Name, string Type)[] s_metrics =
    [
        ("corral_requests_total", "counter"),
        ("corral_request_duration_seconds", "histogram"),
        ("corral_time_to_first_token_seconds", "histogram"),
        ("corral_queue_wait_seconds", "histogram"),
        ("corral_tokens_total", "counter"),
        ("corral_failovers_total", "counter"),
        ("corral_in_flight_requests", "gauge"),
        ("corral_backend_up", "gauge"),
        ("corral_backend_loaded_models", "gauge"),
        ("corral_queue_depth", "gauge"),
        ("corral_catalog_models", "gauge"),
        ("corral_usage_records_dropped_total", "counter"),
        ("corral_usage_write_lag_seconds", "gauge"),
        ("corral_request_log_dropped_total", "counter"),
    ];

    [PromtoolFact]
    public async Task Page_AfterRequestsOfEveryKind_PassesPromtoolCheckMetrics()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")], s => s with { MetricsPerKey = true });
        using var client = corral.Client();
        (await client.PostJsonAsync("/api/chat", NativeChat)).EnsureSuccessStatusCode();
        (await client.PostJsonAsync("/v1/chat/completions", OpenAiChat)).EnsureSuccessStatusCode();
        (await client.PostJsonAsync("/api/chat", """{"model":"nope","messages":[]}""")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        var page = await ScrapeUntilAsync(corral, p => p.Of("corral_requests_total").Count() >= 4);

        var (exitCode, output) = await Promtool.CheckMetricsAsync(page.Text);

        exitCode.Should().Be(0, $"promtool check metrics found problems:\n{output}\n--- page ---\n{page.Text}");
        output.Trim().Should().BeEmpty("promtool reports no lint problem either");
    }

    [Fact]
    public async Task Page_HasEveryMetricUnderTheNameDashboardsUse()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { RequestLog = Corral.Hosting.RequestLogFormat.Json, RequestLogStream = new CapturedStream() });

        var page = await ScrapeAsync(corral);

        foreach (var (name, type) in s_metrics)
        {
            page.Text.Should().Contain($"\n# TYPE {name} {type}\n");
        }

        page.Text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Should().HaveCount(s_metrics.Length, "no metric Corral does not document");
    }

    [Fact]
    public async Task Requests_ShowUpWithRouteModelBackendStatus_AndTheirTokens()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var native = await client.PostJsonAsync("/ollama/api/chat", NativeChat);
        native.EnsureSuccessStatusCode();
        var nativeAnswer = await native.JsonAsync();
        using var openAi = await client.PostJsonAsync("/v1/chat/completions", OpenAiChat);
        openAi.EnsureSuccessStatusCode();
        var usage = (await openAi.JsonAsync()).GetProperty("usage");
        (await client.PostJsonAsync("/api/chat", """{"model":"nope","messages":[]}""")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await client.PostJsonAsync("/api/chat", NativeChat)).EnsureSuccessStatusCode();
        var page = await ScrapeUntilAsync(corral, p => p.Of("corral_requests_total").Sum(s => s.Value) >= 4);

        page.Value("corral_requests_total", ("route", "/api/chat"), ("model", "llama3.2:latest"), ("backend", "a"), ("status", "200"))
            .Should().Be(2, "both native chats count under one route, through either door");
        page.Value("corral_requests_total", ("route", "/v1/chat/completions"), ("model", "qwen3:latest"), ("backend", "b"), ("status", "200")).Should().Be(1);
        page.Value("corral_requests_total", ("route", "/api/chat"), ("model", ""), ("backend", ""), ("status", "404"))
            .Should().Be(1, "an unknown model is counted without the client's string as a label");
        page.Text.Should().NotContain("nope");
        page.Text.Should().NotContain("/metrics", "scrapes are not requests to a surface");

        page.Value("corral_tokens_total", ("type", "prompt"), ("model", "qwen3:latest"), ("backend", "b")).Should().Be(usage.GetProperty("prompt_tokens").GetInt32());
        page.Value("corral_tokens_total", ("type", "completion"), ("model", "qwen3:latest"), ("backend", "b")).Should().Be(usage.GetProperty("completion_tokens").GetInt32());
        // Native answers pass through untouched; their tokens are read from the final metrics on the way.
        page.Value("corral_tokens_total", ("type", "completion"), ("model", "llama3.2:latest"), ("backend", "a"))
            .Should().Be(2 * nativeAnswer.GetProperty("eval_count").GetInt32());
        page.Value("corral_tokens_total", ("type", "prompt"), ("model", "llama3.2:latest"), ("backend", "a"))
            .Should().Be(2 * nativeAnswer.GetProperty("prompt_eval_count").GetInt32());

        page.Value("corral_request_duration_seconds_count", ("route", "/api/chat"), ("model", "llama3.2:latest"), ("backend", "a")).Should().Be(2);
        page.Value("corral_request_duration_seconds_bucket", ("route", "/api/chat"), ("model", "llama3.2:latest"), ("backend", "a"), ("le", "+Inf")).Should().Be(2);
        page.Value("corral_time_to_first_token_seconds_count", ("route", "/v1/chat/completions"), ("model", "qwen3:latest"), ("backend", "b")).Should().Be(1);
        page.Value("corral_time_to_first_token_seconds_count", ("route", "/api/chat"), ("model", "llama3.2:latest"), ("backend", "a")).Should().Be(2);
        page.Value("corral_queue_wait_seconds_count", ("route", "/v1/chat/completions"), ("model", "qwen3:latest"), ("backend", "b")).Should().Be(1);
        page.Of("corral_time_to_first_token_seconds_count").Should().NotContain(s => s.Labels["backend"] == "", "a request no backend answered has no first token");

        page.Value("corral_backend_up", ("backend", "a")).Should().Be(1);
        page.Value("corral_backend_up", ("backend", "b")).Should().Be(1);
        page.Value("corral_in_flight_requests", ("backend", "a")).Should().Be(0);
        page.Value("corral_backend_loaded_models", ("backend", "a")).Should().Be(1, "llama3.2 answered there and stays loaded for its keep_alive");
        page.Value("corral_catalog_models").Should().Be(2);
        page.Value("corral_queue_depth").Should().Be(0);
        page.Value("corral_usage_records_dropped_total").Should().Be(0, "the usage store keeps up with a few requests");
        page.Value("corral_usage_write_lag_seconds").Should().BeInRange(0, 1, "records are written at least every 250 ms");
        page.Value("corral_request_log_dropped_total").Should().Be(0);
        page.Value("corral_failovers_total", ("backend", "a")).Should().BeNull("nothing failed over");
    }

    [Fact]
    public async Task Failover_CountedForTheBackendThatFailed()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a") with { Priority = 0 }, CorralInstance.Backend(b, "b") with { Priority = 1 }],
            s => s with { HealthInterval = TimeSpan.FromMinutes(5) });
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        await a.StopAsync();

        using var response = await client.PostJsonAsync("/api/chat", NativeChat);

        response.Backend().Should().Be("b");
        var page = await ScrapeUntilAsync(corral, p => p.Value("corral_requests_total", ("route", "/api/chat"), ("model", "llama3.2:latest"), ("backend", "b"), ("status", "200")) == 1);
        page.Value("corral_failovers_total", ("backend", "a")).Should().Be(1);
        page.Value("corral_failovers_total", ("backend", "b")).Should().BeNull();
    }

    [Fact]
    public async Task Access_AdminKeyOrMetricsToken_UserKey403_NoKey401()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { MetricsToken = MetricsToken });
        var userKey = await corral.CreateKeyAsync("user", "scraper");

        using (var admin = corral.Client())
        {
            // What Prometheus sends: it prefers OpenMetrics, and gets the classic text format it also reads.
            admin.DefaultRequestHeaders.Accept.ParseAdd("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1");
            using var response = await admin.GetAsync("/metrics");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.Should().Be("text/plain");
            (await response.Content.ReadAsStringAsync()).Should().Contain("# TYPE corral_requests_total counter");
        }

        using (var token = corral.Client(MetricsToken))
        {
            using var response = await token.GetAsync("/metrics");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync()).Should().Contain("corral_backend_up{backend=\"a\"} 1");
            (await token.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the metrics token opens /metrics and nothing else");
            (await token.GetAsync("/admin/api/keys")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        using (var user = corral.Client(userKey))
        {
            using var response = await user.GetAsync("/metrics");
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await response.ErrorAsync()).Should().Be("forbidden: this route needs an admin key or the metrics token");
        }

        foreach (var key in new[] { null, MetricsToken + "x", "corral_not-a-key" })
        {
            using var anonymous = corral.Client(key);
            using var response = await anonymous.GetAsync("/metrics");
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"key '{key}'");
            response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
            (await response.ErrorAsync()).Should().Be("unauthorized");
        }
    }

    [Fact]
    public async Task MetricsPerKey_AddsTheKeyNameLabel_WithoutItNoSeriesHasAKeyLabel()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using (var perKey = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { MetricsPerKey = true }))
        {
            using var user = perKey.Client(await perKey.CreateKeyAsync("user", "laptop"));
            (await user.PostJsonAsync("/api/chat", NativeChat)).EnsureSuccessStatusCode();
            (await user.PostJsonAsync("/v1/chat/completions", NativeChat)).EnsureSuccessStatusCode();

            var page = await ScrapeUntilAsync(perKey, p => p.Of("corral_requests_total").Sum(s => s.Value) >= 2);

            page.Value("corral_requests_total", ("route", "/api/chat"), ("model", "llama3.2:latest"), ("backend", "a"), ("status", "200"), ("key", "laptop")).Should().Be(1);
            page.Of("corral_tokens_total").Should().NotBeEmpty().And.OnlyContain(s => s.Labels["key"] == "laptop");
            page.Of("corral_request_duration_seconds_count").Should().OnlyContain(s => !s.Labels.ContainsKey("key"), "latency histograms stay per route, model and backend");
        }

        await using var plain = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = plain.Client(await plain.CreateKeyAsync("user", "laptop"));
        (await client.PostJsonAsync("/v1/chat/completions", NativeChat)).EnsureSuccessStatusCode();

        var plainPage = await ScrapeUntilAsync(plain, p => p.Of("corral_requests_total").Any());

        plainPage.Samples.Should().OnlyContain(s => !s.Labels.ContainsKey("key"));
        plainPage.Text.Should().NotContain("laptop");
    }

    [Fact]
    public async Task RemovedBackend_LeavesNoGaugeSeries()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();
        using (var added = await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"b","url":"{{b.BaseAddress.ToString().TrimEnd('/')}}"}"""))
        {
            added.StatusCode.Should().Be(HttpStatusCode.Created);
        }

        var before = await ScrapeAsync(corral);
        before.Value("corral_backend_up", ("backend", "b")).Should().Be(1);

        (await admin.DeleteAsync("/admin/api/backends/b")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var after = await ScrapeAsync(corral);

        after.Samples.Should().NotContain(s => s.Labels.ContainsKey("backend") && s.Labels["backend"] == "b");
        after.Value("corral_backend_up", ("backend", "a")).Should().Be(1);
        after.Value("corral_in_flight_requests", ("backend", "a")).Should().Be(0);
    }

    private static async Task<MetricsPage> ScrapeAsync(CorralInstance corral)
    {
        using var client = corral.Client();
        using var response = await client.GetAsync("/metrics");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return MetricsPage.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>A request's record is made as its answer ends, which the client may see a moment before: scrape until it shows.</summary>
    private static Task<MetricsPage> ScrapeUntilAsync(CorralInstance corral, Func<MetricsPage, bool> condition) =>
        Eventually.ValueAsync(() => ScrapeAsync(corral), condition, "the page shows what was expected", page => "\n" + page.Text);

    [Fact]
    public async Task MetricsOff_NoPage()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { Metrics = false });
        using var client = corral.Client();
        (await client.PostJsonAsync("/api/chat", NativeChat)).EnsureSuccessStatusCode();

        using var response = await client.GetAsync("/metrics");

        response.StatusCode.Should().Be(HttpStatusCode.NotFound, "--metrics off serves no page");
    }
}
