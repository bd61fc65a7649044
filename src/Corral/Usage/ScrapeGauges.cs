using Corral.Catalog;
using Corral.Fleet;
using Prometheus;

namespace Corral.Usage;

/// <summary>
/// The metrics read when <c>/metrics</c> is scraped rather than counted per request: the fleet's backends (in
/// flight, up, loaded models), the queue, the catalog, and what the usage store and the request log had to drop.
/// Backends that left the fleet leave no series behind.
/// </summary>
internal sealed class ScrapeGauges
{
    private readonly Lock _gate = new();
    private readonly BackendFleet _fleet;
    private readonly SlotScheduler _scheduler;
    private readonly ModelCatalog _catalog;
    private readonly TimeProvider _time;
    private readonly IUsageBuffer? _usageBuffer;
    private readonly RequestLog? _requestLog;
    private readonly Gauge _inFlight;
    private readonly Gauge _up;
    private readonly Gauge _loadedModels;
    private readonly Gauge _queueDepth;
    private readonly Gauge _catalogModels;
    private readonly Counter _usageDropped;
    private readonly Gauge _usageWriteLag;
    private readonly Counter _requestLogDropped;

    /// <summary>Registers the metrics and reads them at every scrape. The usage store's writer (<see cref="IUsageBuffer"/>) and the request log are optional services; their figures read 0 without them.</summary>
    public ScrapeGauges(CollectorRegistry registry, BackendFleet fleet, SlotScheduler scheduler, ModelCatalog catalog, TimeProvider time, IUsageBuffer? usageBuffer = null, RequestLog? requestLog = null)
    {
        _fleet = fleet;
        _scheduler = scheduler;
        _catalog = catalog;
        _time = time;
        _usageBuffer = usageBuffer;
        _requestLog = requestLog;
        var factory = MetricsRegistry.Factory(registry);
        _inFlight = factory.CreateGauge("corral_in_flight_requests", "Requests sent to a backend whose answers have not finished yet.", "backend");
        _up = factory.CreateGauge("corral_backend_up", "1 while a backend is healthy and takes requests; 0 while it is unhealthy, draining or disabled.", "backend");
        _loadedModels = factory.CreateGauge("corral_backend_loaded_models", "Models a backend holds in memory, from its /api/ps and Corral's own traffic.", "backend");
        _queueDepth = factory.CreateGauge("corral_queue_depth", "Requests waiting in Corral's queue for a free slot, across the fleet.");
        _catalogModels = factory.CreateGauge("corral_catalog_models", "Models in the merged catalog of the fleet.");
        _usageDropped = factory.CreateCounter("corral_usage_records_dropped_total", "Usage records the usage store could not take (its buffer was full) and lost.");
        _usageWriteLag = factory.CreateGauge("corral_usage_write_lag_seconds", "How long the oldest usage record not yet in the store has waited; 0 when all are written.");
        _requestLogDropped = factory.CreateCounter("corral_request_log_dropped_total", "Request log lines dropped because the log's queue was full (its output too slow).");
        registry.AddBeforeCollectCallback(Read);
    }

    private void Read()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var backends = _fleet.All;
            var names = new HashSet<string>(backends.Count, StringComparer.Ordinal);
            foreach (var backend in backends)
            {
                names.Add(backend.Name);
                _inFlight.WithLabels(backend.Name).Set(backend.Outstanding);
                _up.WithLabels(backend.Name).Set(backend.State == BackendState.Healthy ? 1 : 0);
                _loadedModels.WithLabels(backend.Name).Set(backend.Loaded.Snapshot(now).Count);
            }

            RemoveOthers(_inFlight, names);
            RemoveOthers(_up, names);
            RemoveOthers(_loadedModels, names);

            _queueDepth.Set(_scheduler.QueueDepth);
            _catalogModels.Set(_catalog.Current?.Models.Count ?? 0);
            _usageDropped.IncTo(_usageBuffer?.Dropped ?? 0);
            _usageWriteLag.Set(_usageBuffer?.WriteLag.TotalSeconds ?? 0);
            _requestLogDropped.IncTo(_requestLog?.Dropped ?? 0);
        }
    }

    private static void RemoveOthers(Gauge gauge, HashSet<string> backends)
    {
        foreach (var labels in gauge.GetAllLabelValues().ToArray())
        {
            if (!backends.Contains(labels[0]))
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }
}
