using System.Collections.Frozen;
using System.Security.Cryptography;
using Corral.Hosting;
using Corral.Storage;

namespace Corral.Access;

/// <summary>
/// The API keys Corral accepts, held in memory as hashes for a lookup per request, and backed by the store.
/// Secrets exist only in the answer that creates them; they are never stored or logged.
/// </summary>
internal sealed class KeyRing(IKeyStore store, CorralSettings settings, TimeProvider time) : IDisposable
{
    public const string ConfiguredAdminId = "admin-key-option";
    private const string SecretPrefix = "corral_";

    private long _version;
    private FrozenDictionary<KeyHash, (StoredKey Key, Caller Caller)> _keys = FrozenDictionary<KeyHash, (StoredKey, Caller)>.Empty;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>Loads the stored keys and adds the admin key given by option or environment, if any.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ListKeysAsync(cancellationToken);
        var keys = stored.Where(k => k.RevokedAt is null).ToDictionary(k => KeyHash.FromBytes(k.Hash));
        if (settings.AdminKey is { } adminKey)
        {
            var hash = KeyHash.Of(adminKey);
            keys[hash] = new StoredKey(ConfiguredAdminId, "admin (--admin-key)", KeyRole.Admin, hash.ToBytes(), Hint(adminKey), time.GetUtcNow(), null, null);
        }

        Volatile.Write(ref _keys, keys.ToFrozenDictionary(k => k.Key, k => (k.Value, new Caller(k.Value.Id, k.Value.Name, k.Value.Role, k.Value.AssertsUsers))));
        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// When no admin key is configured and none is stored, creates one and returns its secret (to print once);
    /// otherwise null.
    /// </summary>
    public async Task<string?> EnsureAdminKeyAsync(CancellationToken cancellationToken)
    {
        if (settings.AdminKey is not null)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var stored = await store.ListKeysAsync(cancellationToken);
        if (stored.Any(k => k.Role == KeyRole.Admin && k.RevokedAt is null && (k.ExpiresAt is null || k.ExpiresAt > now)))
        {
            return null;
        }

        var (_, secret) = await CreateAsync("admin (generated at first start)", KeyRole.Admin, expiresAt: null, cancellationToken);
        return secret;
    }

    /// <summary>
    /// Authenticates with a per-connection memory: a client on a kept-alive connection sends the same key on
    /// every request, so the key is hashed once and later requests only compare it, in constant time, with the
    /// one remembered. Any change to the keys (a revocation) and any other key goes the full way.
    /// </summary>
    public Caller? Authenticate(ReadOnlySpan<char> token, ConnectionKeyMemory? memory)
    {
        if (memory is null || token.IsEmpty)
        {
            return Authenticate(token);
        }

        var version = Volatile.Read(ref _version);
        if (memory.Matches(token, version) is { } remembered
            && (memory.ExpiresAt is not { } expires || expires > time.GetUtcNow()))
        {
            return remembered;
        }

        if (Find(token) is not { } entry)
        {
            return null;
        }

        memory.Remember(token, entry.Caller, version, entry.Key.ExpiresAt);
        return entry.Caller;
    }

    /// <summary>The caller a bearer token belongs to, or null for a missing, unknown, revoked or expired key.</summary>
    public Caller? Authenticate(ReadOnlySpan<char> token) => Find(token)?.Caller;

    private (StoredKey Key, Caller Caller)? Find(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty)
        {
            return null;
        }

        var presented = KeyHash.Of(token);
        // The dictionary is keyed by the hash of the secret, so its lookup time says nothing about the secret;
        // the final comparison is constant-time all the same.
        if (!Volatile.Read(ref _keys).TryGetValue(presented, out var entry) || !presented.FixedTimeEquals(KeyHash.FromBytes(entry.Key.Hash)))
        {
            return null;
        }

        if (entry.Key.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return null;
        }

        return entry;
    }

    /// <summary>Creates and stores a key; returns its record and the secret (shown this once).</summary>
    public Task<(StoredKey Key, string Secret)> CreateAsync(string name, KeyRole role, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
        CreateAsync(name, role, expiresAt, assertsUsers: false, cancellationToken);

    /// <summary>Creates and stores a key that may (or may not) name its end users; returns its record and the secret.</summary>
    public async Task<(StoredKey Key, string Secret)> CreateAsync(string name, KeyRole role, DateTimeOffset? expiresAt, bool assertsUsers, CancellationToken cancellationToken)
    {
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = new StoredKey(
            "key_" + Base64Url(RandomNumberGenerator.GetBytes(9)),
            name,
            role,
            KeyHash.Of(secret).ToBytes(),
            Hint(secret),
            time.GetUtcNow(),
            expiresAt,
            null,
            assertsUsers);
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            await store.AddKeyAsync(key, cancellationToken);
            await LoadAsync(cancellationToken);
        }
        finally
        {
            _writeGate.Release();
        }

        return (key, secret);
    }

    /// <summary>Revokes a stored key; false when there is no such active key.</summary>
    public async Task<bool> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            var revoked = await store.RevokeKeyAsync(id, time.GetUtcNow(), cancellationToken);
            await LoadAsync(cancellationToken);
            return revoked;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public void Dispose() => _writeGate.Dispose();

    /// <summary>Every stored key, revoked ones included, without secrets.</summary>
    public Task<IReadOnlyList<StoredKey>> ListAsync(CancellationToken cancellationToken) => store.ListKeysAsync(cancellationToken);

    // Enough of the secret to recognise it in a list, far too little to guess the rest.
    private static string Hint(string secret) => secret.Length <= 12 ? "…" : secret[..(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? SecretPrefix.Length + 4 : 4)] + "…";

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
