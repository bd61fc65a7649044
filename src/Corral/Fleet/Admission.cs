using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>Either a slot (<see cref="Admission"/>) or the reason there is none.</summary>
internal readonly record struct AdmissionResult(Admission? Admission, Rejection? Rejection)
{
    public static implicit operator AdmissionResult(Admission admission) => new(admission, null);

    public static implicit operator AdmissionResult(Rejection rejection) => new(null, rejection);
}

/// <summary>
/// A slot on one backend for one request. Dispose it when the answer is over; call <see cref="Succeeded"/> first
/// when it went well, so the model's service time is learnt.
/// </summary>
internal sealed class Admission : IDisposable
{
    private readonly SlotScheduler _scheduler;
    private readonly Lane _lane;
    private Backend.Lease _lease;
    private bool _succeeded;
    private int _disposed;

    internal Admission(SlotScheduler scheduler, Lane lane, ModelLocation location, Backend.Lease lease, long started, bool wasLoaded, string? reason)
    {
        _scheduler = scheduler;
        _lane = lane;
        _lease = lease;
        Location = location;
        Started = started;
        WasLoaded = wasLoaded;
        Reason = reason;
    }

    public Backend Backend => _lane.Backend;

    /// <summary>Where the model lives on the chosen backend (its name there).</summary>
    public ModelLocation Location { get; }

    /// <summary>The <see cref="ModelName.Key"/> of the model's name on the chosen backend.</summary>
    public string ModelKey => _lane.ModelKey;

    /// <summary>Whether the model was in memory (or in use) on the backend when the request was sent.</summary>
    public bool WasLoaded { get; }

    /// <summary>Why this backend was chosen, when routes are explained (<c>--explain-routes</c>).</summary>
    public string? Reason { get; }

    /// <summary>The caller's limit this slot counts against, if any.</summary>
    internal ConcurrencyLimit? Concurrency { get; init; }

    /// <summary>When the slot was taken (a <see cref="TimeProvider"/> timestamp).</summary>
    internal long Started { get; }

    /// <summary>Marks the request as completed normally; its duration then trains the service-time estimate.</summary>
    public void Succeeded() => _succeeded = true;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _lease.Dispose();
            _scheduler.Release(this, _lane, _succeeded);
        }
    }
}
