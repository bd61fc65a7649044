using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>
/// Finds where a requested model should run: its catalog entry, then one of the backends holding it, chosen by
/// the routing policy. Shared by the native and the OpenAI surfaces.
/// </summary>
internal sealed class ModelRouter(ModelCatalog catalog, IRoutingPolicy policy)
{
    /// <summary>The location to send the request to, or null when no enabled backend has the model.</summary>
    public async ValueTask<ModelLocation?> RouteAsync(string model, CancellationToken cancellationToken)
    {
        var snapshot = await catalog.GetAsync(cancellationToken);
        return catalog.Resolve(snapshot, model) is { } entry ? Choose(entry) : null;
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

    private ModelLocation Choose(CatalogModel entry) =>
        entry.Locations.Count == 1 ? entry.Locations[0] : entry.LocationOn(policy.Pick(entry.Candidates));
}
