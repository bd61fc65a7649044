namespace Corral.Fleet;

/// <summary>
/// The one place a backend's health changes, whether the evidence is a health probe or a request. A refused
/// connection takes the backend out at once (nothing listens there); other failures count towards
/// <c>--failure-threshold</c>. A backend that comes back is announced to the fleet, so the catalog lists it again
/// and waiting requests look at it.
/// </summary>
internal sealed partial class HealthUpdater(
    BackendFleet fleet, TimeProvider time, IBackendDoctor doctor, Hosting.CorralSettings settings, IHostApplicationLifetime lifetime, ILogger<HealthUpdater> logger)
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
        var now = time.GetUtcNow();
        if (!health.RecordFailure(now, cause, openNow: refused))
        {
            // Still down: what is wrong may have changed (Ollama moved, a firewall rule came in), so now and then the
            // doctor looks again, and the log says so when its finding changed.
            if (health.IsOpen && health.DiagnosedAt is { } at && now - at >= settings.RediagnoseInterval && health.TryStartDiagnosis())
            {
                _ = DiagnoseAgainAsync(backend);
            }

            return false;
        }

        fleet.NotifyStatusChanged();
        if (health.TryStartDiagnosis())
        {
            _ = ReportDownAsync(backend, health.ConsecutiveFailures, cause);
        }
        else
        {
            LogDown(logger, backend.Name, health.ConsecutiveFailures, cause);
        }

        return true;
    }

    // The one log line of a backend going down carries the doctor's diagnosis of it (which also stays with its
    // health, for the answers that name it), so it is written once the checks are done: a few seconds at most.
    private async Task ReportDownAsync(Backend backend, int failures, string cause)
    {
        var diagnosis = await DiagnoseAsync(backend);
        backend.Health.Diagnosis = backend.Health.IsOpen ? diagnosis : null;
        fleet.NotifyStatusChanged();
        if (diagnosis is null)
        {
            LogDown(logger, backend.Name, failures, cause);
        }
        else
        {
            LogDownDiagnosed(logger, backend.Name, failures, cause, diagnosis.Finding, diagnosis.Fix ?? "none known");
        }
    }

    private async Task DiagnoseAgainAsync(Backend backend)
    {
        var before = backend.Health.Diagnosis;
        var diagnosis = await DiagnoseAsync(backend);
        if (!backend.Health.IsOpen || diagnosis == before)
        {
            return;
        }

        backend.Health.Diagnosis = diagnosis;
        fleet.NotifyStatusChanged();
        LogStillDown(logger, backend.Name, diagnosis?.Finding ?? "every check passes now", diagnosis?.Fix ?? "none known");
    }

    // The doctor's look at the backend, one at a time (claimed with TryStartDiagnosis), and when it was taken.
    private async Task<Diagnosis?> DiagnoseAsync(Backend backend)
    {
        try
        {
            return await doctor.DiagnoseAsync(backend, lifetime.ApplicationStopping);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or System.Net.Sockets.SocketException)
        {
            // Stopping, or the checks themselves could not run: the line says what the failure was.
            return null;
        }
        finally
        {
            backend.Health.DiagnosedAt = time.GetUtcNow();
            backend.Health.DiagnosisDone();
        }
    }

    private void Succeeded(Backend backend, TimeSpan? latency)
    {
        // No clock read: a success changes nothing but a circuit that was open or counting failures.
        if (backend.Health.RecordSuccess(latency))
        {
            backend.Health.Diagnosis = null;
            backend.Health.DiagnosedAt = null;
            LogBack(logger, backend.Name);
            // The catalog lists it again and requests waiting for a slot may start there now.
            fleet.NotifyChanged();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} is down after {Failures} consecutive failures: {Error}; its requests go to other backends")]
    private static partial void LogDown(ILogger logger, string backend, int failures, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} is down after {Failures} consecutive failures: {Error}; its requests go to other backends. Doctor: {Finding}; fix: {Fix}")]
    private static partial void LogDownDiagnosed(ILogger logger, string backend, int failures, string error, string finding, string fix);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} is still down, and the doctor's finding changed: {Finding}; fix: {Fix}")]
    private static partial void LogStillDown(ILogger logger, string backend, string finding, string fix);

    [LoggerMessage(Level = LogLevel.Information, Message = "Backend {Backend} is back")]
    private static partial void LogBack(ILogger logger, string backend);
}
