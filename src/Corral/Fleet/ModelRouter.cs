using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>
/// Finds where a requested model lives in the catalog. Inference requests then go through the
/// <see cref="SlotScheduler"/>; requests that need no slot (show) pick a holder here with the routing policy.
/// Shared by the native and the OpenAI surfaces.
/// </summary>
internal sealed class ModelRouter(ModelCatalog catalog, IRoutingPolicy policy)
{
    /// <summary>The catalog entry of a requested model, or null when no enabled backend lists it.</summary>
    public async ValueTask<CatalogModel?> FindAsync(string model, CancellationToken cancellationToken)
    {
        var snapshot = await catalog.GetAsync(cancellationToken);
        return catalog.Resolve(snapshot, model);
    }

    /// <summary>A location for a request that takes no slot: among healthy holders when there are any.</summary>
    public ModelLocation PickAny(CatalogModel entry)
    {
        if (entry.Locations.Count == 1)
        {
            return entry.Locations[0];
        }

        var routable = entry.Candidates.Where(b => b.IsRoutable).ToArray();
        return entry.LocationOn(policy.Pick(routable.Length > 0 ? routable : entry.Candidates));
    }

    /// <summary>
    /// The model name to send <paramref name="location"/>'s backend: the client's own spelling without the
    /// backend's prefix (Ollama echoes the name it was sent, so answers keep the client's spelling).
    /// </summary>
    public static string UpstreamName(ModelLocation location, string requested)
    {
        if (location.Backend.Options.Prefix is not { } prefix)
        {
            return requested;
        }

        return ModelName.WithoutPrefix(requested, prefix) ?? location.UpstreamName;
    }
}
