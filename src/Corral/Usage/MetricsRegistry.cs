using Prometheus;

namespace Corral.Usage;

/// <summary>
/// The shared settings of Corral's Prometheus metrics. Each Corral has its own <see cref="CollectorRegistry"/> (a
/// singleton service), never prometheus-net's static default one: the page shows only Corral's own metrics, and
/// several Corrals in one process (the functional tests) count apart.
/// </summary>
internal static class MetricsRegistry
{
    /// <summary>
    /// Buckets of every latency histogram, in seconds: from a few milliseconds (an embedding, a cached answer,
    /// Corral's own refusals) to minutes (a cold load of a large model, a long generation, the queue timeout).
    /// </summary>
    public static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

    /// <summary>
    /// A factory for <paramref name="registry"/> that records no exemplars: by default prometheus-net reads the
    /// current <c>Activity</c> on every observation to attach a trace id, which Corral does not export.
    /// </summary>
    public static MetricFactory Factory(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        factory.ExemplarBehavior = ExemplarBehavior.NoExemplars();
        return factory;
    }
}
