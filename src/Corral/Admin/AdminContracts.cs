using System.Text.Json.Serialization;

namespace Corral.Admin;

/// <summary>Body of <c>POST /admin/api/keys</c>.</summary>
internal sealed record CreateKeyRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt, bool? AssertsUsers);

/// <summary>Answer to a key creation: the only time the secret is shown.</summary>
internal sealed record CreatedKeyResponse(string Id, string Name, string Role, string Key, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, bool AssertsUsers);

/// <summary>A key as listed: never its secret, only a hint of its first characters.</summary>
internal sealed record KeyResponse(string Id, string Name, string Role, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, bool Active, bool AssertsUsers);

/// <summary>Answer of <c>GET /admin/api/backends</c>: every backend, requests waiting across the fleet, digest conflicts.</summary>
internal sealed record BackendsResponse(BackendResponse[] Backends, int QueueDepth, ConflictResponse[] Conflicts);

/// <summary>
/// One backend: configuration (its key only as <c>hasKey</c>), where it was defined, its state and health, live
/// counters, what it has loaded, and its last listing.
/// </summary>
internal sealed record BackendResponse(
    string Name,
    string Url,
    string State,
    string Origin,
    bool Enabled,
    string? Prefix,
    string[] AllowedModels,
    string[] Tags,
    double Weight,
    int Priority,
    int MaxConcurrency,
    TimeoutsResponse Timeouts,
    bool HasKey,
    int InFlight,
    int QueueDepth,
    LoadedModelResponse[] LoadedModels,
    double? LatencyMs,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    int ConsecutiveFailures,
    ListingResponse? Listing,
    string[] Models);

/// <summary>A backend's timeouts in force, in seconds.</summary>
internal sealed record TimeoutsResponse(double Connect, double FirstByte, double Idle);

/// <summary>A model a backend holds in memory (its own name for it) and until when.</summary>
internal sealed record LoadedModelResponse(string Name, DateTimeOffset ExpiresAt);

/// <summary>
/// A backend's settings as the admin API takes them (<c>POST</c>/<c>PUT /admin/api/backends</c>) and as they are
/// stored for a backend added through it. Timeouts are in seconds; null means the global setting.
/// </summary>
internal sealed record BackendDefinition(
    string Name,
    string Url,
    string? Key,
    string? Prefix,
    string[] Models,
    string[] Tags,
    double Weight,
    int? MaxConcurrency,
    int Priority,
    double? ConnectTimeout,
    double? FirstByteTimeout,
    double? IdleTimeout,
    bool Enabled);

/// <summary>Answer of <c>POST /admin/api/backends/verify</c>: what the server said, or why it could not be asked.</summary>
internal sealed record VerifyResponse(
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Models,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

/// <summary>Answer of <c>POST /admin/api/models/unload</c>: one entry per backend that held the model.</summary>
internal sealed record UnloadResponse(string Model, UnloadResult[] Backends);

/// <summary>Whether one backend unloaded the model, and if not, why.</summary>
internal sealed record UnloadResult(
    string Name,
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

/// <summary>How the backend's model list was last read.</summary>
internal sealed record ListingResponse(bool Ok, string? Error, DateTimeOffset? LastSuccess, DateTimeOffset CheckedAt);

/// <summary>A model name held by several backends with different digests.</summary>
internal sealed record ConflictResponse(string Model, ConflictHolder[] Backends);

/// <summary>One holder of a conflicting model.</summary>
internal sealed record ConflictHolder(string Backend, string? Digest);
