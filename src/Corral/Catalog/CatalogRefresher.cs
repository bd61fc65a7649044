using Corral.Hosting;

namespace Corral.Catalog;

/// <summary>Keeps the catalog warm: refreshes it at start-up and then once every TTL.</summary>
internal sealed class CatalogRefresher(ModelCatalog catalog, CorralSettings settings, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.CatalogTtl, time);
        do
        {
            await catalog.RefreshAsync().WaitAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
