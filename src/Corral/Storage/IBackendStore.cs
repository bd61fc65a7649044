namespace Corral.Storage;

/// <summary>Where the backends added through the admin API live, so that they survive a restart.</summary>
internal interface IBackendStore
{
    /// <summary>Every stored backend, in the order they were first added.</summary>
    Task<IReadOnlyList<StoredBackend>> ListBackendsAsync(CancellationToken cancellationToken);

    /// <summary>Adds the backend, or replaces the one stored under its name.</summary>
    Task SaveBackendAsync(StoredBackend backend, CancellationToken cancellationToken);

    /// <summary>Forgets a backend; false when none was stored under that name.</summary>
    Task<bool> DeleteBackendAsync(string name, CancellationToken cancellationToken);
}
