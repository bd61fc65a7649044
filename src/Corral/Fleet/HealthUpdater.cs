namespace Corral.Fleet;

/// <summary>
/// The one place a backend's health changes, whether the evidence is a health probe or a request. A refused
/// connection takes the backend out at once (nothing listens there); other failures count towards
/// <c>--failure-threshold</c>. A backend that comes back is announced to the fleet, so the catalog lists it again
/// and waiting requests look at it.
/// </summary>
internal sealed partial class HealthUpdater(BackendFleet fleet, TimeProvider time, ILogger<HealthUpdater> logger)
{
    /// <summary>A request got an answer from the backend (one that is not a 5xx).</summary>
    public void RequestSucceeded(Backend backend) => Succeeded(backend, latency: null);

    /// <summary>A health probe was answered in <paramref name="latency"/>.</summary>
    public void ProbeSucceeded(Backend backend, TimeSpan latency) => Succeeded(backend, latency);

    /// <summary>
    /// A request or probe failed with <paramref name="cause"/>; <paramref name="refused"/> when the connection was
    /// refused. Returns true when this took the backend out of rotation.
    /// </summary>
    public bool Failed(Backend backend, string cause, bool refused)
    {
        var health = backend.Health;
        if (!health.RecordFailure(time.GetUtcNow(), cause, openNow: refused))
        {
            return false;
        }

        LogDown(logger, backend.Name, health.ConsecutiveFailures, cause);
        return true;
    }

    private void Succeeded(Backend backend, TimeSpan? latency)
    {
        // No clock read: a success changes nothing but a circuit that was open or counting failures.
        if (backend.Health.RecordSuccess(latency))
        {
            LogBack(logger, backend.Name);
            // The catalog lists it again and requests waiting for a slot may start there now.
            fleet.NotifyChanged();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} is down after {Failures} consecutive failures: {Error}; its requests go to other backends")]
    private static partial void LogDown(ILogger logger, string backend, int failures, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backend {Backend} is back")]
    private static partial void LogBack(ILogger logger, string backend);
}
