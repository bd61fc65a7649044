using System.Collections.Frozen;
using Corral.Catalog;
using Corral.Hosting;

namespace Corral.Fleet;

/// <summary>A configured Ollama server, its health, what it has loaded, and its live counters.</summary>
internal sealed class Backend
{
    private const int MaxCachedUris = 64;
    private const double LoadWeight = 0.3;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);
    private readonly CorralSettings _defaults;
    private readonly Lock _gate = new();
    private volatile BackendOptions _options;
    private volatile FrozenSet<string>? _allowed;
    private volatile bool _draining;
    private int _outstanding;
    private double _loadEstimateMs;

    public Backend(BackendOptions options, CorralSettings? defaults = null)
    {
        _defaults = defaults ?? new CorralSettings();
        _options = options;
        _allowed = AllowList(options);
        BaseUrl = options.Url.ToString().TrimEnd('/');
        Health = new BackendHealth(_defaults.FailureThreshold);
        _loadEstimateMs = _defaults.ColdLoadEstimate.TotalMilliseconds;
    }

    /// <summary>The configuration in force; replaced as a whole by <see cref="Update"/> (the URL never changes).</summary>
    public BackendOptions Options => _options;

    /// <summary>The base URL without a trailing slash, ready for "{BaseUrl}/api/...".</summary>
    public string BaseUrl { get; }

    public string Name => Options.Name;

    public bool Enabled => Options.Enabled;

    /// <summary>True while the backend finishes what it has and gets nothing new.</summary>
    public bool Draining
    {
        get => _draining;
        set => _draining = value;
    }

    public BackendHealth Health { get; }

    /// <summary>Where the backend was defined: the configuration (file, flags, environment) or the admin API.</summary>
    public BackendOrigin Origin { get; init; } = BackendOrigin.Configuration;

    public LoadedModels Loaded { get; } = new();

    /// <summary>Disabled beats draining beats unhealthy: the state an operator chose is shown over a measured one.</summary>
    public BackendState State =>
        !Enabled ? BackendState.Disabled
        : _draining ? BackendState.Draining
        : Health.IsOpen ? BackendState.Unhealthy
        : BackendState.Healthy;

    /// <summary>Whether new requests may be sent here.</summary>
    public bool IsRoutable => Enabled && !_draining && !Health.IsOpen;

    /// <summary>Requests sent to this backend whose answers have not finished yet.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Parallel requests per model; 0 is unlimited.</summary>
    public int MaxConcurrency => Options.MaxConcurrency ?? _defaults.DefaultMaxConcurrency;

    public TimeSpan ConnectTimeout => Options.ConnectTimeout ?? _defaults.ConnectTimeout;

    public TimeSpan FirstByteTimeout => Options.FirstByteTimeout ?? _defaults.FirstByteTimeout;

    public TimeSpan IdleTimeout => Options.IdleTimeout ?? _defaults.IdleTimeout;

    /// <summary>What loading a model that is not in memory is expected to take here, learnt from cold requests.</summary>
    public TimeSpan LoadEstimate => TimeSpan.FromMilliseconds(Volatile.Read(ref _loadEstimateMs));

    /// <summary>Takes a new configuration for the same URL; counters, health and loaded models stay.</summary>
    public void Update(BackendOptions options)
    {
        if (options.Url != _options.Url)
        {
            throw new ArgumentException("a backend's URL cannot change; replace the backend instead", nameof(options));
        }

        _allowed = AllowList(options);
        _options = options;
    }

    /// <summary>Learns from a request that found its model cold: its time to first byte was mostly the load.</summary>
    public void ObserveColdStart(TimeSpan firstByte)
    {
        lock (_gate)
        {
            Volatile.Write(ref _loadEstimateMs, _loadEstimateMs + (LoadWeight * (firstByte.TotalMilliseconds - _loadEstimateMs)));
        }
    }

    /// <summary>Counts one request as outstanding until the returned lease is disposed.</summary>
    public Lease Acquire()
    {
        Interlocked.Increment(ref _outstanding);
        return new Lease(this);
    }

    /// <summary>Whether the backend's <c>models</c> allow-list (if it has one) admits this model name.</summary>
    public bool Admits(string modelName) => _allowed is not { } allowed || allowed.Contains(ModelName.Key(modelName));

    /// <summary>The absolute URI of <paramref name="pathAndQuery"/> on this backend, cached for the fixed API paths.</summary>
    public Uri UriFor(string pathAndQuery)
    {
        if (_uris.TryGetValue(pathAndQuery, out var uri))
        {
            return uri;
        }

        uri = new Uri(BaseUrl + pathAndQuery);
        // Blob digests are unbounded; only a handful of paths are worth keeping.
        if (_uris.Count < MaxCachedUris)
        {
            _uris.TryAdd(pathAndQuery, uri);
        }

        return uri;
    }

    /// <summary>How this backend is named in errors: name and URL.</summary>
    public string Describe() => $"backend '{Name}' ({BaseUrl})";

    public override string ToString() => Name;

    private static FrozenSet<string>? AllowList(BackendOptions options) =>
        options.Models.Count == 0 ? null : options.Models.Select(ModelName.Key).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>One outstanding request; disposing it twice is harmless.</summary>
    public struct Lease(Backend backend) : IDisposable
    {
        private Backend? _backend = backend;

        public void Dispose()
        {
            if (_backend is { } b)
            {
                _backend = null;
                Interlocked.Decrement(ref b._outstanding);
            }
        }
    }
}

/// <summary>Where a backend was defined.</summary>
internal enum BackendOrigin
{
    /// <summary>The configuration file, <c>--backend</c> or the environment; a configuration reload may change it.</summary>
    Configuration,

    /// <summary>Added through the admin API; kept in the database, untouched by configuration reloads.</summary>
    Api,
}
