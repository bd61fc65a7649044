using Corral.Fleet;
using Corral.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Fleet;

/// <summary>The fleet and scheduler of a running Corral, for assertions about state a user sees through the admin API.</summary>
internal static class CorralInstanceFleetExtensions
{
    public static BackendFleet Fleet(this CorralInstance corral) => corral.Server.Services.GetRequiredService<BackendFleet>();

    public static SlotScheduler Scheduler(this CorralInstance corral) => corral.Server.Services.GetRequiredService<SlotScheduler>();
}
