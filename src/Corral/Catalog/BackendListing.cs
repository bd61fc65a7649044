using System.Text.Json;
using Corral.Fleet;

namespace Corral.Catalog;

/// <summary>The latest model list read from one backend; on failure the last good list is kept, marked failed.</summary>
internal sealed record BackendListing(Backend Backend, IReadOnlyList<JsonElement> Models, bool Ok, string? Error, DateTimeOffset? LastSuccess, DateTimeOffset CheckedAt);
