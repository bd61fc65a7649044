namespace Corral.Fleet;

/// <summary>
/// A backend's circuit breaker. Failures of health probes and of requests (reset, timed out, 5xx before the first
/// byte) count up; after <see cref="FailureThreshold"/> in a row the circuit opens and the backend gets no
/// requests; a refused connection opens it at once. The next successful probe (the half-open check) closes it
/// again. Thread-safe; changed only through the fleet's <see cref="HealthUpdater"/>.
/// </summary>
/// <remarks>
/// Request failures open the circuit between two health checks; <see cref="Opened"/> tells the health checker
/// so that it switches to its faster retry schedule at once.
/// </remarks>
internal sealed class BackendHealth(int failureThreshold)
{
    private const double LatencyWeight = 0.2;

    private readonly Lock _gate = new();
    private volatile bool _open;
    private int _consecutiveFailures;
    private int _failuresWhenOpened;
    private double _latencyMs = double.NaN;
    private int _diagnosing;

    /// <summary>Raised (outside the lock, on the thread that recorded the failure) each time the circuit opens.</summary>
    public event Action? Opened;

    public int FailureThreshold { get; set; } = Math.Max(1, failureThreshold);

    /// <summary>True while the circuit is open: the backend is treated as down.</summary>
    public bool IsOpen => _open;

    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>Failures recorded since the circuit opened (0 for the failure that opened it), for the retry schedule.</summary>
    public int FailuresSinceOpened => _open ? Math.Max(0, Volatile.Read(ref _consecutiveFailures) - Volatile.Read(ref _failuresWhenOpened)) : 0;

    /// <summary>What went wrong last, in words for the admin API and error messages.</summary>
    public string? LastError { get; private set; }

    public DateTimeOffset? LastErrorAt { get; private set; }

    /// <summary>What the doctor found when the backend went down, or since; null while it is up, and until the checks are done.</summary>
    public Diagnosis? Diagnosis { get; set; }

    /// <summary>When the doctor last finished looking at the backend while it was down.</summary>
    public DateTimeOffset? DiagnosedAt { get; set; }

    /// <summary>Claims the one diagnosis that may run at a time for this backend; false while another runs.</summary>
    public bool TryStartDiagnosis() => Interlocked.CompareExchange(ref _diagnosing, 1, 0) == 0;

    /// <summary>The diagnosis claimed with <see cref="TryStartDiagnosis"/> is over.</summary>
    public void DiagnosisDone() => Volatile.Write(ref _diagnosing, 0);

    /// <summary>When the circuit last opened.</summary>
    public DateTimeOffset? OpenedAt { get; private set; }

    /// <summary>Moving average of health-check round trips in milliseconds (a request's first byte waits for generation, so it is not counted); null before any.</summary>
    public double? LatencyMs => Volatile.Read(ref _latencyMs) is var ms && double.IsNaN(ms) ? null : ms;

    /// <summary>Counts a success; returns true when it closed an open circuit (the backend came back).</summary>
    public bool RecordSuccess(TimeSpan? latency = null)
    {
        if (latency is { } l)
        {
            // A lost update under a race only delays the average by one sample; every request comes here.
            var current = Volatile.Read(ref _latencyMs);
            Volatile.Write(ref _latencyMs, double.IsNaN(current) ? l.TotalMilliseconds : current + (LatencyWeight * (l.TotalMilliseconds - current)));
        }

        if (!_open && Volatile.Read(ref _consecutiveFailures) == 0)
        {
            return false;
        }

        lock (_gate)
        {
            _consecutiveFailures = 0;
            var reopened = _open;
            _open = false;
            return reopened;
        }
    }

    /// <summary>
    /// Counts a failure; returns true when it opened the circuit. <paramref name="openNow"/> opens it whatever the
    /// count (a refused connection: nothing listens there).
    /// </summary>
    public bool RecordFailure(DateTimeOffset now, string cause, bool openNow = false)
    {
        lock (_gate)
        {
            _consecutiveFailures++;
            LastError = cause;
            LastErrorAt = now;
            if (_open || (_consecutiveFailures < FailureThreshold && !openNow))
            {
                return false;
            }

            _open = true;
            _failuresWhenOpened = _consecutiveFailures;
            OpenedAt = now;
        }

        Opened?.Invoke();
        return true;
    }
}
