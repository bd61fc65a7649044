namespace Corral.Storage;

/// <summary>Where API keys live (SQLite by default).</summary>
internal interface IKeyStore
{
    /// <summary>Opens the store and brings its schema up to date.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredKey>> ListKeysAsync(CancellationToken cancellationToken);

    Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Writes every field of an unrevoked key but its id, creation and last use (a change or a rotation); false
    /// when no such unrevoked key exists.
    /// </summary>
    Task<bool> UpdateKeyAsync(StoredKey key, CancellationToken cancellationToken);

    /// <summary>Marks a key revoked; false when no such unrevoked key exists.</summary>
    Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Records when keys were last used (a later time than the stored one wins).</summary>
    Task RecordKeyUseAsync(IReadOnlyCollection<(string Id, DateTimeOffset At)> uses, CancellationToken cancellationToken);
}
