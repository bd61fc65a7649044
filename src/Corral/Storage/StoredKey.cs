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
    bool AssertsUsers = false)
{
    public string? Description { get; init; }

    /// <summary>The allow-list: glob patterns over catalog ids; empty for every model.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    public KeyLimits Limits { get; init; } = KeyLimits.None;

    /// <summary>When a client last presented the key (written every minute or so, not per request).</summary>
    public DateTimeOffset? LastUsedAt { get; init; }

    /// <summary>The hash of the secret before the last rotation, which works until <see cref="PreviousValidUntil"/>.</summary>
    public byte[]? PreviousHash { get; init; }

    public DateTimeOffset? PreviousValidUntil { get; init; }
}
