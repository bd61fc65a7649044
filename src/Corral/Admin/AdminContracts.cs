namespace Corral.Admin;

/// <summary>Body of <c>POST /admin/api/keys</c>.</summary>
internal sealed record CreateKeyRequest(string? Name, string? Role, DateTimeOffset? ExpiresAt);

/// <summary>Answer to a key creation: the only time the secret is shown.</summary>
internal sealed record CreatedKeyResponse(string Id, string Name, string Role, string Key, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>A key as listed: never its secret, only a hint of its first characters.</summary>
internal sealed record KeyResponse(string Id, string Name, string Role, string Hint, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, bool Active);

/// <summary>Answer of <c>GET /admin/api/backends</c>.</summary>
internal sealed record BackendsResponse(BackendResponse[] Backends, ConflictResponse[] Conflicts);

/// <summary>One backend: configuration (its key only as <c>hasKey</c>), live counters and its last listing.</summary>
internal sealed record BackendResponse(
    string Name,
    string Url,
    bool Enabled,
    string? Prefix,
    string[] AllowedModels,
    string[] Tags,
    double Weight,
    int MaxConcurrency,
    bool HasKey,
    int InFlight,
    ListingResponse? Listing,
    string[] Models);

/// <summary>How the backend's model list was last read.</summary>
internal sealed record ListingResponse(bool Ok, string? Error, DateTimeOffset? LastSuccess, DateTimeOffset CheckedAt);

/// <summary>A model name held by several backends with different digests.</summary>
internal sealed record ConflictResponse(string Model, ConflictHolder[] Backends);

/// <summary>One holder of a conflicting model.</summary>
internal sealed record ConflictHolder(string Backend, string? Digest);
