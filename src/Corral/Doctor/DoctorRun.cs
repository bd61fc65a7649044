namespace Corral.Doctor;

/// <summary>
/// One run of the doctor, as <c>corral doctor</c> and <c>GET /admin/api/doctor</c> both make it: every URL checked at
/// once; for each that fails, the other places an Ollama answers (<see cref="OllamaDiscovery"/>); and the URL to
/// use instead of the first failing one, when discovery found one.
/// </summary>
internal static class DoctorRun
{
    /// <summary>A URL to check, with the bearer key of the proxy in front of it, if any.</summary>
    internal readonly record struct Target(string Url, string? Key = null);

    /// <summary>
    /// Checks <paramref name="targets"/>. They are a <paramref name="fleet"/> (Corral's backends: each one in use, so
    /// never recommended for another) or alternatives given by hand (each a candidate for the others).
    /// </summary>
    public static async Task<DoctorReport> RunAsync(
        IReadOnlyList<Target> targets,
        bool fleet,
        IReadOnlyList<string> models,
        TimeSpan timeout,
        DoctorEnvironment environment,
        Func<string, string?> variable,
        CancellationToken cancellationToken)
    {
        // Looked up beside the checks, which do not need them: a resolver that cannot be reached costs its wait once.
        var named = environment.WithHostNamesAsync(timeout, cancellationToken);
        var doctor = new OllamaDoctor(environment, timeout);
        var discovery = new OllamaDiscovery(environment, timeout, variable);
        var checkedTargets = await Task.WhenAll(targets.Select(async t =>
        {
            var target = await doctor.CheckAsync(t.Url, models, t.Key, cancellationToken);
            if (target.Status != CheckStatus.Fail)
            {
                return target;
            }

            var failing = Hosting.BackendUrl.TryParse(t.Url, out _);
            var others = targets.Select(o => o.Url).Where(u => u != t.Url).ToArray();
            var candidates = fleet ? discovery.Candidates(failing, given: [], inUse: others) : discovery.Candidates(failing, given: others, inUse: []);
            return target with { Found = await discovery.FindAsync(candidates, cancellationToken) };
        }));
        var recommendation = checkedTargets.FirstOrDefault(t => t.Status == CheckStatus.Fail && t.Found.Count > 0)?.Found[0].Url;
        return new DoctorReport(await named, checkedTargets, recommendation);
    }
}
