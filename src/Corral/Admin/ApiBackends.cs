using System.Text.Json;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Storage;

namespace Corral.Admin;

/// <summary>
/// The backends added through the admin API: kept in the store as they change, put back into the fleet at start-up,
/// and brought in line with the store when another Corral on the same database changed them (<see cref="SyncAsync"/>).
/// A configuration reload leaves them alone (they have <see cref="BackendOrigin.Api"/>).
/// </summary>
internal sealed partial class ApiBackends(IBackendStore store, BackendFleet fleet, TimeProvider time, ILogger<ApiBackends> logger) : IDisposable
{
    /// <summary>One change at a time (the admin API's and a sync's), so that the fleet and the store agree and two adds cannot both take a name.</summary>
    public SemaphoreSlim Changes { get; } = new(1, 1);

    public void Dispose() => Changes.Dispose();

    /// <summary>
    /// Makes the fleet's API-added backends those of the store: added, changed (by their stored settings) or removed.
    /// Requests a removed backend is serving finish.
    /// </summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await Changes.WaitAsync(cancellationToken);
        try
        {
            var stored = await store.ListBackendsAsync(cancellationToken);
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var backend in stored)
            {
                names.Add(backend.Name);
                if (Read(backend) is not { } options)
                {
                    continue;
                }

                if (fleet.Find(options.Name) is { } existing)
                {
                    if (existing.Origin == BackendOrigin.Api && Json(existing.Options) != Json(options))
                    {
                        fleet.Update(existing.Name, options);
                    }
                }
                else if (ConflictOf(options, self: null) is null)
                {
                    fleet.TryAdd(options, out _, BackendOrigin.Api);
                }
            }

            foreach (var backend in fleet.All.Where(b => b.Origin == BackendOrigin.Api && !names.Contains(b.Name)).ToArray())
            {
                fleet.Remove(backend.Name);
            }
        }
        finally
        {
            Changes.Release();
        }
    }
    /// <summary>Adds every stored backend to the fleet; one that no longer reads, or whose name or URL is taken, is skipped with a warning.</summary>
    public async Task RestoreAsync(CancellationToken cancellationToken)
    {
        foreach (var stored in await store.ListBackendsAsync(cancellationToken))
        {
            if (Read(stored) is not { } options)
            {
                continue;
            }

            // A backend of the configuration may have taken its name or URL since it was added.
            var conflict = ConflictOf(options, self: null);
            if (conflict is null && !fleet.TryAdd(options, out var existing, BackendOrigin.Api))
            {
                conflict = NameTaken(existing);
            }

            if (conflict is not null)
            {
                LogConflict(logger, stored.Name, conflict);
            }
        }
    }

    // A stored backend's settings; null, with a warning, when they no longer read.
    private BackendOptions? Read(StoredBackend stored)
    {
        var problems = new List<string>();
        var where = $"stored backend '{stored.Name}'";
        BackendOptions? options = null;
        try
        {
            using var document = JsonDocument.Parse(stored.OptionsJson);
            options = BackendDefinitions.Read(document.RootElement, where, problems);
        }
        catch (JsonException e)
        {
            problems.Add($"{where}: not valid JSON: {e.Message}");
        }

        if (options is null)
        {
            LogNotRestored(logger, stored.Name, string.Join("; ", problems));
        }

        return options;
    }

    private static string Json(BackendOptions options) => JsonSerializer.Serialize(BackendDefinitions.Of(options), CorralJsonContext.Default.BackendDefinition);

    /// <summary>Why <paramref name="options"/> cannot join the fleet beside the other backends (a name or URL taken), or null.</summary>
    public string? ConflictOf(BackendOptions options, Backend? self)
    {
        if (fleet.Find(options.Name) is { } named && named != self)
        {
            return NameTaken(named);
        }

        var url = options.Url.AbsoluteUri.TrimEnd('/');
        var sameUrl = fleet.All.FirstOrDefault(b => b != self && string.Equals(b.Options.Url.AbsoluteUri.TrimEnd('/'), url, StringComparison.OrdinalIgnoreCase));
        return sameUrl is null ? null : $"backend '{sameUrl.Name}' already has the URL {url}; a server is listed once";
    }

    /// <summary>The problem of a name already in use by <paramref name="existing"/>.</summary>
    public static string NameTaken(Backend existing) => existing.Origin == BackendOrigin.Api
        ? $"a backend named '{existing.Name}' already exists; choose another \"name\" (or PUT /admin/api/backends/{existing.Name} to change that one)"
        : $"a backend named '{existing.Name}' already exists (in the configuration); choose another \"name\"";

    /// <summary>Stores the settings of a backend added or changed through the admin API.</summary>
    public Task SaveAsync(BackendOptions options, CancellationToken cancellationToken)
    {
        return store.SaveBackendAsync(new StoredBackend(options.Name, Json(options), time.GetUtcNow()), cancellationToken);
    }

    /// <summary>Forgets a backend deleted through the admin API.</summary>
    public Task DeleteAsync(string name, CancellationToken cancellationToken) => store.DeleteBackendAsync(name, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend}, added through the admin API, was not restored: {Problems}")]
    private static partial void LogNotRestored(ILogger logger, string backend, string problems);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend}, added through the admin API, was not restored: {Conflict} (change the configuration to get it back)")]
    private static partial void LogConflict(ILogger logger, string backend, string conflict);
}
