using Corral.Storage;

namespace Corral.Tests.Access;

/// <summary>An <see cref="IKeyStore"/> held in a list, for tests that need no database.</summary>
internal sealed class InMemoryKeyStore : IKeyStore
{
    private readonly List<StoredKey> _keys = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<StoredKey> Keys
    {
        get
        {
            lock (_gate)
            {
                return [.. _keys];
            }
        }
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IReadOnlyList<StoredKey>> ListKeysAsync(CancellationToken cancellationToken) => Task.FromResult(Keys);

    public Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_keys.Exists(k => k.Id == key.Id))
            {
                throw new InvalidOperationException($"a key with id {key.Id} is already stored");
            }

            _keys.Add(key);
        }

        return Task.CompletedTask;
    }

    public Task<bool> UpdateKeyAsync(StoredKey key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var index = _keys.FindIndex(k => k.Id == key.Id && k.RevokedAt is null);
            if (index < 0)
            {
                return Task.FromResult(false);
            }

            _keys[index] = key with { CreatedAt = _keys[index].CreatedAt, LastUsedAt = _keys[index].LastUsedAt };
            return Task.FromResult(true);
        }
    }

    public Task RecordKeyUseAsync(IReadOnlyCollection<(string Id, DateTimeOffset At)> uses, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            foreach (var (id, at) in uses)
            {
                var index = _keys.FindIndex(k => k.Id == id);
                if (index >= 0 && (_keys[index].LastUsedAt is not { } stored || stored < at))
                {
                    _keys[index] = _keys[index] with { LastUsedAt = at };
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var index = _keys.FindIndex(k => k.Id == id && k.RevokedAt is null);
            if (index < 0)
            {
                return Task.FromResult(false);
            }

            _keys[index] = _keys[index] with { RevokedAt = at };
            return Task.FromResult(true);
        }
    }
}
