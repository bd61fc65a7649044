using System.Text.Json;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Catalog;

/// <summary>
/// The merged model list of the fleet: which models exist and where each lives. Served from a snapshot that is
/// refreshed in the background every TTL; a request never waits on a slow backend for longer than one listing
/// timeout, and only when there is no snapshot yet.
/// </summary>
internal sealed partial class ModelCatalog
{
    private readonly BackendFleet _fleet;
    private readonly ListingClient _listingClient;
    private readonly CorralSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelCatalog> _logger;
    private readonly Presets _presets;
    private readonly Lock _gate = new();
    private readonly Dictionary<Backend, BackendListing> _listings = [];
    private CatalogSnapshot? _current;
    private Task<CatalogSnapshot>? _refreshing;
    private bool _invalidated;
    private string _presetProblems = string.Empty;

    public ModelCatalog(BackendFleet fleet, ListingClient listingClient, CorralSettings settings, TimeProvider time, ILogger<ModelCatalog> logger, Presets presets)
    {
        _fleet = fleet;
        _listingClient = listingClient;
        _settings = settings;
        _time = time;
        _logger = logger;
        _presets = presets;
        // A preset added, changed or removed: the same listings, a new snapshot (no backend is asked again).
        _presets.Changed += Rebuild;
    }

    /// <summary>The latest snapshot, if one was built.</summary>
    public CatalogSnapshot? Current => Volatile.Read(ref _current);

    /// <summary>
    /// A snapshot for serving a request: the current one while fresh; a stale one while a refresh runs in the
    /// background; or, on first use or after an invalidation, the result of a refresh.
    /// </summary>
    public ValueTask<CatalogSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && !Volatile.Read(ref _invalidated))
        {
            if (_time.GetUtcNow() - current.CreatedAt >= _settings.CatalogTtl)
            {
                _ = RefreshAsync();
            }

            return ValueTask.FromResult(current);
        }

        return new ValueTask<CatalogSnapshot>(RefreshAsync().WaitAsync(cancellationToken));
    }

    /// <summary>
    /// The catalog entry of a requested model, or null when no enabled backend lists it. A preset's name is not a
    /// model here (pull, copy, delete and unload act on models): <see cref="MatchAsync"/> finds presets.
    /// </summary>
    public async ValueTask<CatalogModel?> FindAsync(string model, CancellationToken cancellationToken) =>
        Resolve(await GetAsync(cancellationToken), model);

    /// <summary>Finds a requested model, with the requested name as the catalog keeps it (<see cref="CatalogMatch"/>).</summary>
    public async ValueTask<CatalogMatch> MatchAsync(string model, CancellationToken cancellationToken) =>
        Match(await GetAsync(cancellationToken), model);

    /// <summary>Marks the list out of date (after pull, create, copy, delete): the next request refreshes it.</summary>
    public void Invalidate() => Volatile.Write(ref _invalidated, true);

    /// <summary>Re-reads every enabled backend's models; concurrent callers share one refresh.</summary>
    public Task<CatalogSnapshot> RefreshAsync()
    {
        lock (_gate)
        {
            if (_refreshing is { IsCompleted: false } running)
            {
                if (!Volatile.Read(ref _invalidated))
                {
                    return running;
                }

                // Invalidated since the running refresh began (a backend was added or changed): its result may
                // predate the change, so refresh once more after it.
                Volatile.Write(ref _invalidated, false);
                _refreshing = running.ContinueWith(_ => BuildAsync(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
                return _refreshing;
            }

            Volatile.Write(ref _invalidated, false);
            _refreshing = Task.Run(BuildAsync);
            return _refreshing;
        }
    }

    /// <summary>The lookup key of a requested name, honouring backend prefixes (<c>gpu1.llama3.2</c>).</summary>
    public string KeyOf(string requested)
    {
        var (prefix, name) = SplitPrefix(requested);
        return KeyFor(prefix, name);
    }

    /// <summary>
    /// Finds a requested model: behind a backend prefix first (<c>gpu1.llama3.2</c>), then as a plain name, so
    /// that a prefix which happens to look like the start of a dotted name (<c>llama3</c> and <c>llama3.2</c>)
    /// does not hide the unprefixed model.
    /// </summary>
    public CatalogModel? Resolve(CatalogSnapshot snapshot, string requested) => Match(snapshot, requested) is { Preset: null } match ? match.Model : null;

    private CatalogMatch Match(CatalogSnapshot snapshot, string requested) =>
        snapshot.Resolve(requested, (this, snapshot), static (name, state) =>
            state.snapshot.Find(state.Item1.KeyOf(name)) ?? state.snapshot.Find(ModelName.Key(name)));

    /// <summary>The lookup key of a model a backend lists, behind that backend's prefix.</summary>
    public static string KeyFor(string? prefix, string upstreamName) =>
        prefix is null ? ModelName.Key(upstreamName) : prefix.ToLowerInvariant() + "." + ModelName.Key(upstreamName);

    /// <summary>Splits off a known prefix: <c>gpu1.llama3.2</c> gives (<c>gpu1</c>, <c>llama3.2</c>).</summary>
    public (string? Prefix, string Name) SplitPrefix(string requested)
    {
        foreach (var prefix in _fleet.Prefixes)
        {
            if (ModelName.WithoutPrefix(requested, prefix) is { } rest)
            {
                return (prefix, rest);
            }
        }

        return (null, requested);
    }

    private async Task<CatalogSnapshot> BuildAsync()
    {
        var backends = _fleet.Enabled.ToArray();
        var results = await Task.WhenAll(backends.Select(b => _listingClient.GetAsync(b, "/api/tags", CancellationToken.None)));
        var now = _time.GetUtcNow();
        var listings = new List<BackendListing>(backends.Length);
        lock (_gate)
        {
            for (var i = 0; i < backends.Length; i++)
            {
                var backend = backends[i];
                var result = results[i];
                _listings.TryGetValue(backend, out var previous);
                BackendListing listing;
                if (result.Document is { } document)
                {
                    using (document)
                    {
                        listing = new BackendListing(backend, ReadModels(document.RootElement), Ok: true, Error: null, LastSuccess: now, CheckedAt: now);
                    }
                }
                else
                {
                    if (previous is null || previous.Ok)
                    {
                        LogListingFailed(_logger, backend.Name, result.Error!);
                    }

                    listing = new BackendListing(backend, previous?.Models ?? [], Ok: false, result.Error, previous?.LastSuccess, now);
                }

                _listings[backend] = listing;
                listings.Add(listing);
            }
        }

        lock (_gate)
        {
            return Publish(CatalogSnapshot.Build(listings, now, _presets.All, KeyOf));
        }
    }

    private void Rebuild()
    {
        lock (_gate)
        {
            if (Volatile.Read(ref _current) is { } current)
            {
                Publish(CatalogSnapshot.Build(current.Listings, current.CreatedAt, _presets.All, KeyOf));
            }
        }
    }

    // Under _gate: makes the snapshot current and reports presets that became a problem.
    private CatalogSnapshot Publish(CatalogSnapshot snapshot)
    {
        Volatile.Write(ref _current, snapshot);
        var problems = string.Join("; ", snapshot.Presets.Select(p => p.Problem).OfType<string>());
        if (problems != _presetProblems)
        {
            _presetProblems = problems;
            if (problems.Length > 0)
            {
                LogPresetProblems(_logger, problems);
            }
        }

        // The admin event stream shows what the catalog listed.
        _fleet.NotifyStatusChanged();
        return snapshot;
    }

    private static JsonElement[] ReadModels(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("models"u8, out var models) || models.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        // Clone: the entries outlive the parsed document.
        return models.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object).Select(m => m.Clone()).ToArray();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model presets with problems: {Problems}")]
    private static partial void LogPresetProblems(ILogger logger, string problems);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list the models of backend {Backend}: {Error}")]
    private static partial void LogListingFailed(ILogger logger, string backend, string error);
}
