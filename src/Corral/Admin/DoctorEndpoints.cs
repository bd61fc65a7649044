using Corral.Doctor;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Admin;

/// <summary>
/// <c>GET /admin/api/doctor</c>: <c>corral doctor</c> run by Corral on its own backends (with their keys), from where
/// it runs; the same JSON. <c>?model=NAME</c> (repeatable) names models that must be there.
/// </summary>
internal sealed class DoctorEndpoints(BackendFleet fleet)
{
    public async Task RunAsync(HttpContext context)
    {
        var targets = fleet.All.Select(b => new DoctorRun.Target(b.Options.Url.ToString().TrimEnd('/'), b.Options.Key)).ToArray();
        var models = context.Request.Query["model"].OfType<string>().Where(m => m.Length > 0).ToArray();
        var report = await DoctorRun.RunAsync(targets, fleet: true, models, BackendDoctor.MaxTime, BackendDoctor.Environment, Environment.GetEnvironmentVariable, context.RequestAborted);
        await context.Response.WriteAsJsonAsync(report, CorralJsonContext.Default.DoctorReport, cancellationToken: context.RequestAborted);
    }
}
