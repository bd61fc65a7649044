using System.Collections.Concurrent;
using System.Globalization;
using Corral.Hosting;
using Prometheus;

namespace Corral.Usage;

/// <summary>
/// Counts every finished request into the Prometheus registry: requests, durations, time to first token, queue
/// waits, tokens and failovers. Runs on the request's own thread, so it does one dictionary lookup (the request's
/// label combination, cached with every series it needs) and a few interlocked adds; it never allocates once a
/// combination has been seen.
/// </summary>
/// <remarks>
/// Label values stay bounded by the fleet: the catalog id of the model (empty when none was found, never the
/// client's own string), backend names, status codes and route names; the key's name only with
/// <c>--metrics-per-key</c>.
/// </remarks>
internal sealed class RequestMetrics : IUsageObserver
{
    // Per thread, as requests run on pool threads: the last label combination seen and its series (holding at most
    // one RequestMetrics per thread alive after its Corral stopped, as tests start several in one process).
    [ThreadStatic]
    private static PreviousSeries s_previous;

    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Histogram _timeToFirstToken;
    private readonly Histogram _queueWait;
    private readonly Counter _tokens;
    private readonly Counter _failovers;
    private readonly bool _perKey;

    public RequestMetrics(CollectorRegistry registry, CorralSettings settings)
    {
        _perKey = settings.MetricsPerKey;
        var factory = MetricsRegistry.Factory(registry);
        string[] requestLabels = _perKey ? ["route", "model", "backend", "status", "key"] : ["route", "model", "backend", "status"];
        string[] latencyLabels = ["route", "model", "backend"];
        string[] tokenLabels = _perKey ? ["type", "model", "backend", "key"] : ["type", "model", "backend"];
        _requests = factory.CreateCounter("corral_requests_total", "Requests to the native and OpenAI surfaces, by route, catalog model, backend that answered and status sent.", requestLabels, Suppressed());
        _duration = factory.CreateHistogram("corral_request_duration_seconds", "Time from a request's arrival to the end of its answer.", Latency(latencyLabels));
        _timeToFirstToken = factory.CreateHistogram("corral_time_to_first_token_seconds", "Time from a request's arrival until the first byte of its answer's body reached the client (requests a backend answered).", Latency(latencyLabels));
        _queueWait = factory.CreateHistogram("corral_queue_wait_seconds", "Time requests sent to a backend (or given up while queued) waited in Corral's queue for a slot.", Latency(latencyLabels));
        _tokens = factory.CreateCounter("corral_tokens_total", "Tokens of prompts (type=\"prompt\") and answers (type=\"completion\"), from the backends' final metrics.", tokenLabels, Suppressed());
        _failovers = factory.CreateCounter("corral_failovers_total", "Backend failures before an answer started that sent a request on to another backend, by the backend that failed.", ["backend"], Suppressed());
    }

    public void Observe(UsageRecord record)
    {
        var key = new SeriesKey(record.Route, record.ResolvedModel ?? string.Empty, record.Backend ?? string.Empty, record.Status, _perKey ? record.KeyName ?? string.Empty : null);
        var series = SeriesOf(key);

        series.Requests.Inc(1, Exemplar.None);
        series.Duration.Observe(record.DurationMs / 1000, Exemplar.None);
        if (record.TtftMs is { } ttft)
        {
            series.TimeToFirstToken.Observe(ttft / 1000, Exemplar.None);
        }

        if (record.Attempts > 0 || record.QueueMs > 0)
        {
            series.QueueWait.Observe(record.QueueMs / 1000, Exemplar.None);
        }

        if (record.PromptTokens > 0)
        {
            series.PromptTokens.Inc(record.PromptTokens, Exemplar.None);
        }

        if (record.CompletionTokens > 0)
        {
            series.CompletionTokens.Inc(record.CompletionTokens, Exemplar.None);
        }

        // A list, but almost always empty; a failover is rare enough for the library's own label lookup.
        for (var i = 0; i < record.FailedOver.Count; i++)
        {
            _failovers.WithLabels(record.FailedOver[i]).Inc(1, Exemplar.None);
        }
    }

    // The series of the thread's previous request when its labels are the same string objects (the catalog's, the
    // fleet's, the routes' constants: the usual case), found without hashing them; otherwise the dictionary's.
    private Series SeriesOf(SeriesKey key)
    {
        ref var previous = ref s_previous;
        if (previous.Metrics == this && previous.Key.SameObjects(key))
        {
            return previous.Series;
        }

        if (!_series.TryGetValue(key, out var series))
        {
            series = _series.GetOrAdd(key, NewSeries);
        }

        previous = new PreviousSeries(this, key, series);
        return series;
    }

    private Series NewSeries(SeriesKey key)
    {
        var status = key.Status.ToString(CultureInfo.InvariantCulture);
        var requests = key.KeyName is { } name
            ? _requests.WithLabels(key.Route, key.Model, key.Backend, status, name)
            : _requests.WithLabels(key.Route, key.Model, key.Backend, status);
        var prompt = key.KeyName is { } k ? _tokens.WithLabels("prompt", key.Model, key.Backend, k) : _tokens.WithLabels("prompt", key.Model, key.Backend);
        var completion = key.KeyName is { } c ? _tokens.WithLabels("completion", key.Model, key.Backend, c) : _tokens.WithLabels("completion", key.Model, key.Backend);
        return new Series(
            requests,
            _duration.WithLabels(key.Route, key.Model, key.Backend),
            _timeToFirstToken.WithLabels(key.Route, key.Model, key.Backend),
            _queueWait.WithLabels(key.Route, key.Model, key.Backend),
            prompt,
            completion);
    }

    // Series appear on the page at their first observation, not when they are created: a route that never carries
    // tokens (or never reaches a backend) shows no zero token or time-to-first-token series.
    private static CounterConfiguration Suppressed() => new() { SuppressInitialValue = true };

    private static HistogramConfiguration Latency(string[] labels) => new()
    {
        LabelNames = labels,
        Buckets = MetricsRegistry.LatencyBuckets,
        SuppressInitialValue = true,
    };

    /// <summary>One label combination of a request; <see cref="KeyName"/> is null unless metrics are per key.</summary>
    private readonly record struct SeriesKey(string Route, string Model, string Backend, int Status, string? KeyName)
    {
        public bool SameObjects(SeriesKey other) =>
            Status == other.Status && ReferenceEquals(Route, other.Route) && ReferenceEquals(Model, other.Model)
            && ReferenceEquals(Backend, other.Backend) && ReferenceEquals(KeyName, other.KeyName);
    }

    private readonly record struct PreviousSeries(RequestMetrics? Metrics, SeriesKey Key, Series Series);

    /// <summary>Every series one label combination of a request feeds, looked up once.</summary>
    private sealed record Series(
        Counter.Child Requests,
        Histogram.Child Duration,
        Histogram.Child TimeToFirstToken,
        Histogram.Child QueueWait,
        Counter.Child PromptTokens,
        Counter.Child CompletionTokens);
}
