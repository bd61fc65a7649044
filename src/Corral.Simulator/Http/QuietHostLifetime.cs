using Microsoft.Extensions.Hosting;

namespace Corral.Simulator.Http;

/// <summary>A host lifetime that neither listens for Ctrl+C nor prints start-up messages: the process hosting the simulator owns both.</summary>
internal sealed class QuietHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
