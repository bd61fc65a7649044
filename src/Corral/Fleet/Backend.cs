using System.Collections.Frozen;
using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>A configured Ollama server and its live counters.</summary>
internal sealed class Backend(BackendOptions options)
{
    private const int MaxCachedUris = 64;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Uri> _uris = new(StringComparer.Ordinal);
    private readonly FrozenSet<string>? _allowed = options.Models.Count == 0
        ? null
        : options.Models.Select(ModelName.Key).ToFrozenSet(StringComparer.Ordinal);

    private int _outstanding;

    public BackendOptions Options { get; } = options;

    /// <summary>The base URL without a trailing slash, ready for "{BaseUrl}/api/...".</summary>
    public string BaseUrl { get; } = options.Url.ToString().TrimEnd('/');

    public string Name => Options.Name;

    public bool Enabled => Options.Enabled;

    /// <summary>Requests sent to this backend whose answers have not finished yet.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Counts one request as outstanding until the returned lease is disposed.</summary>
    public Lease Acquire()
    {
        Interlocked.Increment(ref _outstanding);
        return new Lease(this);
    }

    /// <summary>Whether the backend's <c>models</c> allow-list (if it has one) admits this model name.</summary>
    public bool Admits(string modelName) => _allowed is null || _allowed.Contains(ModelName.Key(modelName));

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
