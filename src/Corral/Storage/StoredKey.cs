using Corral.Access;

namespace Corral.Storage;

/// <summary>An API key as stored: its SHA-256 hash, never the secret.</summary>
internal sealed record StoredKey(
    string Id,
    string Name,
    KeyRole Role,
    byte[] Hash,
    string Hint,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt);
