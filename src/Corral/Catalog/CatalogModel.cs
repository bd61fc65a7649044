using System.Text.Json;
using Corral.Fleet;

namespace Corral.Catalog;

/// <summary>One model as clients see it, with every backend that holds it.</summary>
internal sealed class CatalogModel(string name, IReadOnlyList<ModelLocation> locations)
{
    /// <summary>The name clients use: the backend's name for it, behind the backend's prefix if it has one.</summary>
    public string Name { get; } = name;

    public IReadOnlyList<ModelLocation> Locations { get; } = locations;
}

/// <summary>Where a model lives: the backend, the backend's own name for it, and its listing entry.</summary>
internal sealed record ModelLocation(Backend Backend, string UpstreamName, string? Digest, JsonElement Listing);
