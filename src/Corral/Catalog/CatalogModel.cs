using System.Text.Json;
using Corral.Fleet;

namespace Corral.Catalog;

/// <summary>One model as clients see it, with every backend that holds it.</summary>
internal sealed class CatalogModel
{
    public CatalogModel(string name, IReadOnlyList<ModelLocation> locations, Func<Backend, bool> listedOk)
    {
        Name = name;
        Locations = locations;
        Holders = locations.Select(l => l.Backend).ToArray();
        var healthy = Holders.Where(listedOk).ToArray();
        // Prefer backends whose last listing succeeded; one that failed its listing is likely down.
        Candidates = healthy.Length > 0 ? healthy : Holders;
    }

    /// <summary>The name clients use: the backend's name for it, behind the backend's prefix if it has one.</summary>
    public string Name { get; }

    public IReadOnlyList<ModelLocation> Locations { get; }

    /// <summary>Every backend holding the model, in configuration order.</summary>
    public IReadOnlyList<Backend> Holders { get; }

    /// <summary>The holders a request should be routed among, worked out once per catalog snapshot.</summary>
    public IReadOnlyList<Backend> Candidates { get; }

    /// <summary>The location on <paramref name="backend"/>, one of <see cref="Holders"/>.</summary>
    public ModelLocation LocationOn(Backend backend)
    {
        for (var i = 0; i < Locations.Count; i++)
        {
            if (Locations[i].Backend == backend)
            {
                return Locations[i];
            }
        }

        throw new ArgumentException($"{backend.Describe()} does not hold {Name}", nameof(backend));
    }
}

/// <summary>Where a model lives: the backend, the backend's own name for it, and its listing entry.</summary>
internal sealed record ModelLocation(Backend Backend, string UpstreamName, string? Digest, JsonElement Listing)
{
    /// <summary>
    /// The model name to send this backend for <paramref name="requested"/>: the client's own spelling without the
    /// backend's prefix (Ollama echoes the name it was sent, so answers keep the client's spelling).
    /// </summary>
    public string NameFor(string requested) =>
        Backend.Options.Prefix is not { } prefix ? requested : ModelName.WithoutPrefix(requested, prefix) ?? UpstreamName;
}
