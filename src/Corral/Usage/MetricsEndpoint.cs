using Corral.Access;
using Prometheus;

namespace Corral.Usage;

/// <summary>
/// <c>GET /metrics</c>: the Prometheus text exposition of Corral's registry, for an admin key or the
/// <c>--metrics-token</c> (<see cref="AccessMiddleware"/>). It is not a surface route, so scrapes make no usage
/// record and are not counted in <c>corral_requests_total</c>.
/// </summary>
/// <remarks>
/// prometheus-net rather than OpenTelemetry's Prometheus exporter (both measured in
/// bench/Corral.Benchmarks/MetricsLibraryBenchmarks.cs, figures in bench/README.md):
/// <list type="bullet">
/// <item>Recording one request (a 4-label counter, three histograms, two token counters) costs about 90 ns through
/// label children cached per combination; OpenTelemetry has no bound instruments, so every measurement looks its
/// tag set up again: about 400 ns a request. Rendering the page costs about the same in both (0.4–0.46 ms for 240
/// label combinations, once per scrape).</item>
/// <item>It writes the names exactly as given (<c>corral_requests_total</c>, <c>corral_queue_depth</c>), with no
/// <c>otel_scope_*</c> labels on every series or <c>target_info</c> series added (OpenTelemetry's page was 1.7 times
/// the size), so dashboards see the names they expect.</item>
/// <item>A registry is an object, so each Corral (several in one test process) has its own; OpenTelemetry's
/// providers listen to every meter of a name in the process.</item>
/// <item>Its exporter is stable (8.x); OpenTelemetry's Prometheus exporter is still a beta.</item>
/// </list>
/// </remarks>
internal static class MetricsEndpoint
{
    public const string Path = "/metrics";

    public static void MapMetrics(this WebApplication app)
    {
        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        // Created here so that its scrape-time callback is registered before the first scrape.
        app.Services.GetRequiredService<ScrapeGauges>();
        var exporter = ((IEndpointRouteBuilder)app).CreateApplicationBuilder()
            // Corral records no exemplars, the one thing OpenMetrics would add: always the classic text format.
            .UseMiddleware<MetricServerMiddleware>(new MetricServerMiddleware.Settings { Registry = registry, EnableOpenMetrics = false })
            .Build();
        app.MapGet(Path, exporter).WithMetadata(new AdminOnlyEndpoint(), new MetricsTokenEndpoint());
    }
}
