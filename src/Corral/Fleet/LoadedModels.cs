using System.Collections.Concurrent;
using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>
/// Which models a backend holds in memory, and until when: read from its <c>/api/ps</c> and learnt from Corral's
/// own traffic (a model that just answered stays loaded until its <c>keep_alive</c> runs out). Keys are
/// <see cref="ModelName.Key"/>s of the backend's own names. Thread-safe.
/// </summary>
internal sealed class LoadedModels
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

    public bool IsLoaded(string modelKey, DateTimeOffset now) => _until.TryGetValue(modelKey, out var until) && until > now;

    /// <summary>Records that the model is loaded until <paramref name="until"/> (or unloaded, when that is not in the future).</summary>
    public void MarkLoaded(string modelKey, DateTimeOffset until, DateTimeOffset now)
    {
        if (until > now)
        {
            _until[modelKey] = until;
        }
        else
        {
            _until.TryRemove(modelKey, out _);
        }
    }

    public void MarkUnloaded(string modelKey) => _until.TryRemove(modelKey, out _);

    /// <summary>Replaces everything known with what the backend's <c>/api/ps</c> just said; true when that changed a model or its expiry.</summary>
    public bool Replace(IEnumerable<(string ModelKey, DateTimeOffset Until)> loaded)
    {
        var changed = false;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, until) in loaded)
        {
            seen.Add(key);
            changed |= !_until.TryGetValue(key, out var known) || known != until;
            _until[key] = until;
        }

        foreach (var key in _until.Keys)
        {
            if (!seen.Contains(key))
            {
                changed |= _until.TryRemove(key, out _);
            }
        }

        return changed;
    }

    /// <summary>The models loaded now, with their expiry, sorted by name.</summary>
    public IReadOnlyList<(string ModelKey, DateTimeOffset Until)> Snapshot(DateTimeOffset now) =>
        _until.Where(p => p.Value > now).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)).ToArray();
}
