namespace Corral.Storage;

/// <summary>Where API keys live (SQLite by default).</summary>
internal interface IKeyStore
{
    /// <summary>Opens the store and brings its schema up to date.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredKey>> ListKeysAsync(CancellationToken cancellationToken);

    Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken);

    /// <summary>Marks a key revoked; false when no such unrevoked key exists.</summary>
    Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);
}
