using Corral.Fleet;

namespace Corral.Doctor;

/// <summary>
/// The doctor's checks run by Corral on one of its backends (with its key), within the backend's connect timeout
/// and never longer than <see cref="MaxTime"/> a step; the first check that failed is the diagnosis (or, when none
/// failed, the first warning).
/// </summary>
internal sealed class BackendDoctor : IBackendDoctor
{
    public static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(3);

    // Where Corral runs does not change while it runs.
    private static readonly Lazy<DoctorEnvironment> s_environment = new(() => DoctorEnvironment.Detect());

    public static DoctorEnvironment Environment => s_environment.Value;

    public async Task<Diagnosis?> DiagnoseAsync(Backend backend, CancellationToken cancellationToken)
    {
        var step = backend.ConnectTimeout < MaxTime ? backend.ConnectTimeout : MaxTime;
        var doctor = new OllamaDoctor(Environment, step > TimeSpan.Zero ? step : MaxTime);
        var target = await doctor.CheckAsync(backend.Options.Url.ToString(), [], backend.Options.Key, cancellationToken);
        // A warning about the models (none yet, one missing) says nothing about why the backend went down.
        var wrong = target.Checks.FirstOrDefault(c => c.Status == CheckStatus.Fail)
            ?? target.Checks.FirstOrDefault(c => c.Status == CheckStatus.Warn && c.Name != "models");
        return wrong is null ? null : new Diagnosis(wrong.Name, wrong.Finding, wrong.Fix);
    }
}
