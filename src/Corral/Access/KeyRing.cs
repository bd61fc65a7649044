using System.Collections.Frozen;
using System.Security.Cryptography;
using Corral.Hosting;
using Corral.Storage;

namespace Corral.Access;

/// <summary>
/// The API keys Corral accepts, held in memory as hashes for a lookup per request, and backed by the store.
/// Secrets exist only in the answer that creates (or rotates) them; they are never stored or logged. Each key has
/// one <see cref="KeyState"/> (its rates, requests in flight, last use) for as long as Corral runs, whatever is
/// reloaded meanwhile.
/// </summary>
internal sealed class KeyRing(IKeyStore store, CorralSettings settings, TimeProvider time, IQuotaStore? quotas = null) : IDisposable
{
    public const string ConfiguredAdminId = "admin-key-option";
    private const string SecretPrefix = "corral_";

    private long _version;
    private FrozenDictionary<KeyHash, Entry> _keys = FrozenDictionary<KeyHash, Entry>.Empty;
    private FrozenDictionary<string, KeyState> _states = FrozenDictionary<string, KeyState>.Empty;
    private readonly Lock _loadGate = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    /// <summary>Loads the stored keys and adds the admin key given by option or environment, if any.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ListKeysAsync(cancellationToken);
        var active = stored.Where(k => k.RevokedAt is null).ToList();
        if (settings.AdminKey is { } adminKey)
        {
            active.Add(new StoredKey(ConfiguredAdminId, "admin (--admin-key)", KeyRole.Admin, KeyHash.Of(adminKey).ToBytes(), Hint(adminKey), time.GetUtcNow(), null, null));
        }

        lock (_loadGate)
        {
            var states = new Dictionary<string, KeyState>(StringComparer.Ordinal);
            var keys = new Dictionary<KeyHash, Entry>();
            foreach (var key in active)
            {
                var state = _states.GetValueOrDefault(key.Id) ?? new KeyState(time, key.Id, quotas);
                state.Configure(key.Limits);
                states[key.Id] = state;
                var caller = new Caller(key.Id, key.Name, key.Role, key.AssertsUsers) { Models = ModelAllowList.Of(key.Models), State = state };
                var hash = KeyHash.FromBytes(key.Hash);
                keys[hash] = new Entry(key, caller, hash, key.ExpiresAt);
                if (key.PreviousHash is { } previous && key.PreviousValidUntil is { } until)
                {
                    // The secret before the last rotation, until its grace period ends (or the key expires).
                    var previousHash = KeyHash.FromBytes(previous);
                    keys.TryAdd(previousHash, new Entry(key, caller, previousHash, key.ExpiresAt is { } expires && expires < until ? expires : until));
                }
            }

            Volatile.Write(ref _states, states.ToFrozenDictionary(StringComparer.Ordinal));
            Volatile.Write(ref _keys, keys.ToFrozenDictionary());
            Interlocked.Increment(ref _version);
        }
    }

    /// <summary>Reads the keys again (another Corral on the database changed them), after any write of this one.</summary>
    public Task ReloadAsync(CancellationToken cancellationToken) => WriteAsync(() => Task.FromResult(true), cancellationToken);

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
        if (memory.Matches(token, version) is { } remembered)
        {
            var now = time.GetUtcNow();
            if (memory.ExpiresAt is not { } expires || expires > now)
            {
                remembered.State?.MarkUsed(now);
                return remembered;
            }
        }

        if (Find(token) is not { } entry)
        {
            return null;
        }

        memory.Remember(token, entry.Caller, version, entry.ValidUntil);
        return entry.Caller;
    }

    /// <summary>The caller a bearer token belongs to, or null for a missing, unknown, revoked or expired key.</summary>
    public Caller? Authenticate(ReadOnlySpan<char> token) => Find(token)?.Caller;

    /// <summary>The state of a key by its id (to charge the tokens of a finished request), if the key is active.</summary>
    public KeyState? StateOf(string keyId) => Volatile.Read(ref _states).GetValueOrDefault(keyId);

    private Entry? Find(ReadOnlySpan<char> token)
    {
        if (token.IsEmpty)
        {
            return null;
        }

        var presented = KeyHash.Of(token);
        // The dictionary is keyed by the hash of the secret, so its lookup time says nothing about the secret;
        // the final comparison is constant-time all the same.
        if (!Volatile.Read(ref _keys).TryGetValue(presented, out var entry) || !presented.FixedTimeEquals(entry.Hash))
        {
            return null;
        }

        var now = time.GetUtcNow();
        if (entry.ValidUntil is { } until && until <= now)
        {
            return null;
        }

        entry.Caller.State?.MarkUsed(now);
        return entry;
    }

    /// <summary>Creates and stores a key; returns its record and the secret (shown this once).</summary>
    public Task<(StoredKey Key, string Secret)> CreateAsync(string name, KeyRole role, DateTimeOffset? expiresAt, CancellationToken cancellationToken) =>
        CreateAsync(KeySettings.Of(name, role, expiresAt), cancellationToken);

    /// <summary>Creates and stores a key with all its settings; returns its record and the secret (shown this once).</summary>
    public async Task<(StoredKey Key, string Secret)> CreateAsync(KeySettings key, CancellationToken cancellationToken)
    {
        var secret = NewSecret();
        var stored = With(new StoredKey("key_" + Base64Url(RandomNumberGenerator.GetBytes(9)), key.Name, key.Role, KeyHash.Of(secret).ToBytes(), Hint(secret), time.GetUtcNow(), null, null), key);
        await WriteAsync(
            async () =>
            {
                await store.AddKeyAsync(stored, cancellationToken);
                return true;
            },
            cancellationToken);
        return (stored, secret);
    }

    /// <summary>Changes a key's settings (<paramref name="change"/> gets the current ones); null when there is no such active key.</summary>
    public async Task<StoredKey?> UpdateAsync(string id, Func<KeySettings, KeySettings> change, CancellationToken cancellationToken)
    {
        StoredKey? updated = null;
        await WriteAsync(
            async () =>
            {
                if (await FindStoredAsync(id, cancellationToken) is not { } current)
                {
                    return false;
                }

                updated = With(current, change(SettingsOf(current)));
                return await store.UpdateKeyAsync(updated, cancellationToken);
            },
            cancellationToken);
        return updated;
    }

    /// <summary>
    /// Gives the key a new secret (same id, settings and usage); the old one keeps working for
    /// <paramref name="grace"/>, then not. Null when there is no such active key.
    /// </summary>
    public async Task<(StoredKey Key, string Secret)?> RotateAsync(string id, TimeSpan grace, CancellationToken cancellationToken)
    {
        var secret = NewSecret();
        StoredKey? rotated = null;
        await WriteAsync(
            async () =>
            {
                if (await FindStoredAsync(id, cancellationToken) is not { } current)
                {
                    return false;
                }

                rotated = current with
                {
                    Hash = KeyHash.Of(secret).ToBytes(),
                    Hint = Hint(secret),
                    PreviousHash = grace > TimeSpan.Zero ? current.Hash : null,
                    PreviousValidUntil = grace > TimeSpan.Zero ? time.GetUtcNow() + grace : null,
                };
                return await store.UpdateKeyAsync(rotated, cancellationToken);
            },
            cancellationToken);
        return rotated is null ? null : (rotated, secret);
    }

    /// <summary>Revokes a stored key; false when there is no such active key.</summary>
    public Task<bool> RevokeAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(() => store.RevokeKeyAsync(id, time.GetUtcNow(), cancellationToken), cancellationToken);

    /// <summary>Every stored key, revoked ones included, without secrets; last uses as this Corral knows them.</summary>
    public async Task<IReadOnlyList<StoredKey>> ListAsync(CancellationToken cancellationToken)
    {
        var stored = await store.ListKeysAsync(cancellationToken);
        return [.. stored.Select(WithLastUse)];
    }

    /// <summary>One stored key (revoked included), or null.</summary>
    public async Task<StoredKey?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (id == ConfiguredAdminId && Volatile.Read(ref _keys).Values.FirstOrDefault(e => e.Key.Id == id) is { } configured)
        {
            return WithLastUse(configured.Key);
        }

        return (await store.ListKeysAsync(cancellationToken)).FirstOrDefault(k => k.Id == id) is { } key ? WithLastUse(key) : null;
    }

    /// <summary>Writes the keys' last uses seen since Corral started to the store (a later stored time wins).</summary>
    public Task SaveUsesAsync(CancellationToken cancellationToken)
    {
        var uses = Volatile.Read(ref _states)
            .Where(s => s.Key != ConfiguredAdminId && s.Value.LastUsed is not null)
            .Select(s => (s.Key, s.Value.LastUsed!.Value))
            .ToArray();
        return store.RecordKeyUseAsync(uses, cancellationToken);
    }

    /// <summary>Whether the keys' rates are shared with other Corrals through the database (leases to give back).</summary>
    public bool SharesRates => quotas is not null;

    /// <summary>Gives back the leases of shared rates that outlived <see cref="KeyState.LeaseLifetime"/> (all of them when <paramref name="all"/>).</summary>
    public async Task ReturnLeasesAsync(CancellationToken cancellationToken, bool all = false)
    {
        foreach (var state in Volatile.Read(ref _states).Values)
        {
            await state.ReturnLeasesAsync(cancellationToken, all);
        }
    }

    public void Dispose() => _writeGate.Dispose();

    private StoredKey WithLastUse(StoredKey key) =>
        StateOf(key.Id)?.LastUsed is { } seen && (key.LastUsedAt is not { } stored || seen > stored) ? key with { LastUsedAt = seen } : key;

    private async Task<StoredKey?> FindStoredAsync(string id, CancellationToken cancellationToken) =>
        (await store.ListKeysAsync(cancellationToken)).FirstOrDefault(k => k.Id == id && k.RevokedAt is null);

    // One write at a time, each followed by a reload, so every write sees the one before it.
    private async Task<bool> WriteAsync(Func<Task<bool>> write, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            var written = await write();
            await LoadAsync(cancellationToken);
            return written;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private static KeySettings SettingsOf(StoredKey key) =>
        new(key.Name, key.Role, key.Description, key.Models, key.Limits, key.ExpiresAt, key.AssertsUsers);

    private static StoredKey With(StoredKey key, KeySettings settings) => key with
    {
        Name = settings.Name,
        Role = settings.Role,
        Description = settings.Description,
        Models = settings.Models,
        Limits = settings.Limits,
        ExpiresAt = settings.ExpiresAt,
        AssertsUsers = settings.AssertsUsers,
    };

    private static string NewSecret() => SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    // Enough of the secret to recognise it in a list, far too little to guess the rest.
    private static string Hint(string secret) => secret.Length <= 12 ? "…" : secret[..(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? SecretPrefix.Length + 4 : 4)] + "…";

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A hash Corral accepts: the key it belongs to, its caller, and until when this hash works.</summary>
    private sealed record Entry(StoredKey Key, Caller Caller, KeyHash Hash, DateTimeOffset? ValidUntil);
}
