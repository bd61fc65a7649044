using Corral.Access;

namespace Corral.Storage;

/// <summary>
/// An API key as stored: its SHA-256 hash, never the secret. <see cref="AssertsUsers"/>: the client behind the key
/// may name its end users (Open WebUI's user headers, OpenAI's <c>user</c>) for usage records.
/// </summary>
internal sealed record StoredKey(
    string Id,
    string Name,
    KeyRole Role,
    byte[] Hash,
    string Hint,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    bool AssertsUsers = false);
