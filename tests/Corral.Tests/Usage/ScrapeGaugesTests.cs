using Corral.Catalog;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Usage;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;

namespace Corral.Tests.Usage;

public sealed class ScrapeGaugesTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero));
    private readonly CorralSettings _settings = new() { FailureThreshold = 1 };
    private readonly BackendFleet _fleet;
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();

    public ScrapeGaugesTests()
    {
        _fleet = new BackendFleet([Options("gpu1"), Options("gpu2"), Options("gpu3")], _settings);
    }

    [Fact]
    public async Task Scrape_ReadsEachBackendsStateLoadAndLoadedModels()
    {
        Gauges();
        var gpu1 = _fleet.Find("gpu1")!;
        using var lease = gpu1.Acquire();
        using var another = gpu1.Acquire();
        gpu1.Loaded.MarkLoaded("llama3.2:latest", _time.GetUtcNow().AddMinutes(5), _time.GetUtcNow());
        gpu1.Loaded.MarkLoaded("qwen3:latest", _time.GetUtcNow().AddMinutes(5), _time.GetUtcNow());
        _fleet.Find("gpu2")!.Health.RecordFailure(_time.GetUtcNow(), "connection refused");
        _fleet.Find("gpu3")!.Draining = true;

        var page = await RequestMetricsTests.PageAsync(_registry);

        page.Value("corral_in_flight_requests", ("backend", "gpu1")).Should().Be(2);
        page.Value("corral_in_flight_requests", ("backend", "gpu2")).Should().Be(0);
        page.Value("corral_backend_loaded_models", ("backend", "gpu1")).Should().Be(2);
        page.Value("corral_backend_up", ("backend", "gpu1")).Should().Be(1);
        page.Value("corral_backend_up", ("backend", "gpu2")).Should().Be(0, "its circuit is open");
        page.Value("corral_backend_up", ("backend", "gpu3")).Should().Be(0, "it is draining");
        page.Value("corral_queue_depth").Should().Be(0);
        page.Value("corral_catalog_models").Should().Be(0, "no catalog was built yet");
    }

    [Fact]
    public async Task Scrape_AfterABackendLeftTheFleet_ItHasNoSeriesLeft()
    {
        Gauges();
        (await RequestMetricsTests.PageAsync(_registry)).Value("corral_backend_up", ("backend", "gpu2")).Should().Be(1);

        _fleet.Remove("gpu2").Should().BeTrue();
        var page = await RequestMetricsTests.PageAsync(_registry);

        page.Samples.Should().NotContain(s => s.Labels.ContainsKey("backend") && s.Labels["backend"] == "gpu2");
        page.Value("corral_backend_up", ("backend", "gpu1")).Should().Be(1);
        page.Value("corral_backend_up", ("backend", "gpu3")).Should().Be(1);
    }

    [Fact]
    public async Task Scrape_WithoutUsageStoreOrRequestLog_TheirFiguresReadZero()
    {
        Gauges();

        var page = await RequestMetricsTests.PageAsync(_registry);

        page.Value("corral_usage_records_dropped_total").Should().Be(0);
        page.Value("corral_usage_write_lag_seconds").Should().Be(0);
        page.Value("corral_request_log_dropped_total").Should().Be(0);
    }

    [Fact]
    public async Task Scrape_ReadsTheUsageBufferAndTheRequestLog()
    {
        var buffer = new Buffer { Dropped = 7, WriteLag = TimeSpan.FromMilliseconds(1500) };
        var log = new RequestLog(new RequestLogOutput(Stream.Null, gate: null), _time, NullLogger.Instance, capacity: 1);
        log.Observe(RequestMetricsTests.Record());
        log.Observe(RequestMetricsTests.Record());
        log.Observe(RequestMetricsTests.Record());
        Gauges(buffer, log);

        var first = await RequestMetricsTests.PageAsync(_registry);
        buffer.Dropped = 9;
        var second = await RequestMetricsTests.PageAsync(_registry);

        first.Value("corral_usage_records_dropped_total").Should().Be(7);
        first.Value("corral_usage_write_lag_seconds").Should().Be(1.5);
        first.Value("corral_request_log_dropped_total").Should().Be(2);
        second.Value("corral_usage_records_dropped_total").Should().Be(9);
    }

    private ScrapeGauges Gauges(IUsageBuffer? buffer = null, RequestLog? log = null) => new(
        _registry,
        _fleet,
        new SlotScheduler(_settings, _time),
        new ModelCatalog(_fleet, null!, _settings, _time, NullLogger<ModelCatalog>.Instance, new Corral.Catalog.Presets()),
        _time,
        buffer,
        log);

    private static BackendOptions Options(string name) => new() { Name = name, Url = new Uri($"http://{name}.lan:11434") };

    private sealed class Buffer : IUsageBuffer
    {
        public long Dropped { get; set; }

        public TimeSpan WriteLag { get; set; }
    }
}
