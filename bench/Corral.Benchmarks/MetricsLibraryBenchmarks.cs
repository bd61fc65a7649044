using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Corral.Hosting;
using Corral.Usage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Prometheus;

namespace Corral.Benchmarks;

/// <summary>
/// The two Prometheus libraries considered for <c>/metrics</c>, on the same work: recording one request's metrics
/// (a counter with 4 labels, three histogram observations, two token counter adds) and rendering the page. The
/// fleet has 4 backends × 10 models × 3 routes × 2 statuses = 240 label combinations, all seen before (steady
/// state); each call records the next one. Reported per request (record) or per page (render).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>PrometheusNet_LabelLookup</c>: prometheus-net used plainly, <c>WithLabels</c> on every call (the
/// span overload, which does not allocate once the series exists).</item>
/// <item><c>PrometheusNet_CachedSeries</c>: Corral's <see cref="RequestMetrics.Observe"/>, prometheus-net with the
/// label children cached per combination (one dictionary lookup per request).</item>
/// <item><c>OpenTelemetry_TagList</c>: System.Diagnostics.Metrics instruments with a <see cref="TagList"/> per
/// measurement, collected by the OpenTelemetry SDK (it has no bound instruments: each measurement looks up its tag
/// set).</item>
/// </list>
/// </remarks>
[MemoryDiagnoser]
public class MetricsLibraryBenchmarks
{
    private static readonly string[] s_routes = ["/api/chat", "/v1/chat/completions", "/api/embed"];
    private static readonly string[] s_statuses = ["200", "503"];

    private UsageRecord[] _records = [];
    private string[][] _requestLabels = [];
    private string[][] _latencyLabels = [];
    private string[][] _promptLabels = [];
    private string[][] _completionLabels = [];
    private int _next;

    private CollectorRegistry _plainRegistry = null!;
    private Prometheus.Counter _plainRequests = null!;
    private Prometheus.Histogram _plainDuration = null!;
    private Prometheus.Histogram _plainTtft = null!;
    private Prometheus.Histogram _plainQueue = null!;
    private Prometheus.Counter _plainTokens = null!;

    private CollectorRegistry _corralRegistry = null!;
    private RequestMetrics _corral = null!;

    private Meter _meter = null!;
    private MeterProvider _provider = null!;
    private Counter<long> _otelRequests = null!;
    private Histogram<double> _otelDuration = null!;
    private Histogram<double> _otelTtft = null!;
    private Histogram<double> _otelQueue = null!;
    private Counter<long> _otelTokens = null!;
    private RequestDelegate _otelExporter = null!;
    private IServiceProvider _otelServices = null!;

    private readonly MemoryStream _page = new(1 << 20);

    [GlobalSetup]
    public void Setup()
    {
        var records = new List<UsageRecord>();
        foreach (var route in s_routes)
        {
            for (var model = 0; model < 10; model++)
            {
                for (var backend = 0; backend < 4; backend++)
                {
                    foreach (var status in s_statuses)
                    {
                        records.Add(new UsageRecord
                        {
                            Time = DateTimeOffset.UnixEpoch,
                            KeyId = "key_1",
                            KeyName = "laptop",
                            Route = route,
                            Model = $"model{model}",
                            ResolvedModel = $"model{model}:latest",
                            Backend = $"gpu{backend}",
                            Status = int.Parse(status, CultureInfo.InvariantCulture),
                            PromptTokens = 26,
                            CompletionTokens = 31,
                            QueueMs = 2.5,
                            TtftMs = 180,
                            DurationMs = 1250,
                            Attempts = 1,
                        });
                    }
                }
            }
        }

        // Shuffled with a fixed seed, so that consecutive calls do not hit neighbouring series.
        _records = [.. records];
        new Random(42).Shuffle(_records);
        _requestLabels = [.. _records.Select(r => new[] { r.Route, r.ResolvedModel!, r.Backend!, r.Status.ToString(CultureInfo.InvariantCulture) })];
        _latencyLabels = [.. _records.Select(r => new[] { r.Route, r.ResolvedModel!, r.Backend! })];
        _promptLabels = [.. _records.Select(r => new[] { "prompt", r.ResolvedModel!, r.Backend! })];
        _completionLabels = [.. _records.Select(r => new[] { "completion", r.ResolvedModel!, r.Backend! })];

        SetupPlainPrometheusNet();
        _corralRegistry = Metrics.NewCustomRegistry();
        _corral = new RequestMetrics(_corralRegistry, new CorralSettings());
        SetupOpenTelemetry();

        for (var i = 0; i < _records.Length; i++)
        {
            PrometheusNet_LabelLookup();
            PrometheusNet_CachedSeries();
            OpenTelemetry_TagList();
        }

        CheckNames("prometheus-net", RenderPrometheusNetText());
        CheckNames("OpenTelemetry", RenderOpenTelemetryText());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _provider.Dispose();
        _meter.Dispose();
    }

    [Benchmark]
    [BenchmarkCategory("Record")]
    public void PrometheusNet_LabelLookup()
    {
        var i = Next();
        var record = _records[i];
        _plainRequests.WithLabels(_requestLabels[i].AsSpan()).Inc(1, Prometheus.Exemplar.None);
        _plainDuration.WithLabels(_latencyLabels[i].AsSpan()).Observe(record.DurationMs / 1000, Prometheus.Exemplar.None);
        _plainTtft.WithLabels(_latencyLabels[i].AsSpan()).Observe(record.TtftMs!.Value / 1000, Prometheus.Exemplar.None);
        _plainQueue.WithLabels(_latencyLabels[i].AsSpan()).Observe(record.QueueMs / 1000, Prometheus.Exemplar.None);
        _plainTokens.WithLabels(_promptLabels[i].AsSpan()).Inc(record.PromptTokens, Prometheus.Exemplar.None);
        _plainTokens.WithLabels(_completionLabels[i].AsSpan()).Inc(record.CompletionTokens, Prometheus.Exemplar.None);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Record")]
    public void PrometheusNet_CachedSeries() => _corral.Observe(_records[Next()]);

    [Benchmark]
    [BenchmarkCategory("Record")]
    public void OpenTelemetry_TagList()
    {
        var record = _records[Next()];
        var model = record.ResolvedModel;
        var backend = record.Backend;
        var requestTags = new TagList
        {
            { "route", record.Route },
            { "model", model },
            { "backend", backend },
            { "status", s_statuses[record.Status == 200 ? 0 : 1] },
        };
        _otelRequests.Add(1, requestTags);
        var latencyTags = new TagList { { "route", record.Route }, { "model", model }, { "backend", backend } };
        _otelDuration.Record(record.DurationMs / 1000, latencyTags);
        _otelTtft.Record(record.TtftMs!.Value / 1000, latencyTags);
        _otelQueue.Record(record.QueueMs / 1000, latencyTags);
        _otelTokens.Add(record.PromptTokens, new TagList { { "type", "prompt" }, { "model", model }, { "backend", backend } });
        _otelTokens.Add(record.CompletionTokens, new TagList { { "type", "completion" }, { "model", model }, { "backend", backend } });
    }

    [Benchmark]
    [BenchmarkCategory("Render")]
    public long Render_PrometheusNet()
    {
        _page.SetLength(0);
        _corralRegistry.CollectAndExportAsTextAsync(_page).GetAwaiter().GetResult();
        return _page.Length;
    }

    [Benchmark]
    [BenchmarkCategory("Render")]
    public long Render_OpenTelemetry()
    {
        _page.SetLength(0);
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/metrics";
        context.RequestServices = _otelServices;
        context.Response.Body = _page;
        _otelExporter(context).GetAwaiter().GetResult();
        return _page.Length;
    }

    private int Next()
    {
        var i = _next;
        _next = i + 1 == _records.Length ? 0 : i + 1;
        return i;
    }

    private void SetupPlainPrometheusNet()
    {
        _plainRegistry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(_plainRegistry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        string[] latency = ["route", "model", "backend"];
        _plainRequests = factory.CreateCounter("corral_requests_total", "Requests.", ["route", "model", "backend", "status"]);
        _plainDuration = factory.CreateHistogram("corral_request_duration_seconds", "Duration.", new Prometheus.HistogramConfiguration { LabelNames = latency, Buckets = MetricsRegistry.LatencyBuckets });
        _plainTtft = factory.CreateHistogram("corral_time_to_first_token_seconds", "TTFT.", new Prometheus.HistogramConfiguration { LabelNames = latency, Buckets = MetricsRegistry.LatencyBuckets });
        _plainQueue = factory.CreateHistogram("corral_queue_wait_seconds", "Queue.", new Prometheus.HistogramConfiguration { LabelNames = latency, Buckets = MetricsRegistry.LatencyBuckets });
        _plainTokens = factory.CreateCounter("corral_tokens_total", "Tokens.", ["type", "model", "backend"]);
    }

    private void SetupOpenTelemetry()
    {
        // A meter name of its own: a MeterProvider listens to every meter of the names it was given, process-wide.
        _meter = new Meter("Corral.Benchmarks." + Guid.NewGuid().ToString("N"));
        _otelRequests = _meter.CreateCounter<long>("corral_requests", description: "Requests.");
        _otelDuration = _meter.CreateHistogram<double>("corral_request_duration", unit: "s", description: "Duration.");
        _otelTtft = _meter.CreateHistogram<double>("corral_time_to_first_token", unit: "s", description: "TTFT.");
        _otelQueue = _meter.CreateHistogram<double>("corral_queue_wait", unit: "s", description: "Queue.");
        _otelTokens = _meter.CreateCounter<long>("corral_tokens", description: "Tokens.");
        _provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(_meter.Name)
            .AddView(instrument => instrument is Histogram<double> ? new ExplicitBucketHistogramConfiguration { Boundaries = MetricsRegistry.LatencyBuckets } : null)
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0)
            .Build();
        // The exporter's middleware is internal: build the pipeline its public extension makes, and call it directly.
        _otelServices = new ServiceCollection().AddOptions().BuildServiceProvider();
        _otelExporter = new ApplicationBuilder(_otelServices)
            .UseOpenTelemetryPrometheusScrapingEndpoint(_provider, predicate: null, path: "/metrics", configureBranchedPipeline: null, optionsName: null)
            .Build();
    }

    private string RenderPrometheusNetText()
    {
        Render_PrometheusNet();
        return Encoding.UTF8.GetString(_page.ToArray());
    }

    private string RenderOpenTelemetryText()
    {
        Render_OpenTelemetry();
        return Encoding.UTF8.GetString(_page.ToArray());
    }

    /// <summary>Fails the run unless the page carries the names dashboards use; prints what else it adds.</summary>
    private static void CheckNames(string library, string page)
    {
        string[] names = ["corral_requests_total{", "corral_request_duration_seconds_bucket{", "corral_time_to_first_token_seconds_bucket{", "corral_queue_wait_seconds_bucket{", "corral_tokens_total{"];
        var missing = names.Where(n => !page.Contains("\n" + n, StringComparison.Ordinal)).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidOperationException($"{library} does not write {string.Join(", ", missing)}:\n{page[..Math.Min(page.Length, 3000)]}");
        }

        var sample = page.Split('\n').First(l => l.StartsWith("corral_requests_total{", StringComparison.Ordinal));
        Console.WriteLine($"// {library}: {page.Length} bytes; a requests sample: {sample}; target_info: {page.Contains("target_info", StringComparison.Ordinal)}");
    }
}
