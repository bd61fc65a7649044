using System.Text.Json;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Storage;

namespace Corral.Admin;

/// <summary>
/// The backends added through the admin API: kept in the store as they change, and put back into the fleet at
/// start-up. A configuration reload leaves them alone (they have <see cref="BackendOrigin.Api"/>).
/// </summary>
internal sealed partial class ApiBackends(IBackendStore store, BackendFleet fleet, TimeProvider time, ILogger<ApiBackends> logger)
{
    /// <summary>Adds every stored backend to the fleet; one that no longer reads, or whose name or URL is taken, is skipped with a warning.</summary>
    public async Task RestoreAsync(CancellationToken cancellationToken)
    {
        foreach (var stored in await store.ListBackendsAsync(cancellationToken))
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
        var json = JsonSerializer.Serialize(BackendDefinitions.Of(options), CorralJsonContext.Default.BackendDefinition);
        return store.SaveBackendAsync(new StoredBackend(options.Name, json, time.GetUtcNow()), cancellationToken);
    }

    /// <summary>Forgets a backend deleted through the admin API.</summary>
    public Task DeleteAsync(string name, CancellationToken cancellationToken) => store.DeleteBackendAsync(name, cancellationToken);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend}, added through the admin API, was not restored: {Problems}")]
    private static partial void LogNotRestored(ILogger logger, string backend, string problems);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend}, added through the admin API, was not restored: {Conflict} (change the configuration to get it back)")]
    private static partial void LogConflict(ILogger logger, string backend, string conflict);
}
