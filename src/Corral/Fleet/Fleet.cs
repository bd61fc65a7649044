using System.Collections.Frozen;
using Corral.Hosting;

namespace Corral.Fleet;

/// <summary>
/// The backends Corral routes to, in configuration order. It changes at run time (the configuration file is
/// reloaded, the admin API adds, changes and removes backends): readers get an immutable snapshot, writers
/// replace it under a lock, and a backend in use stays valid for the requests that hold it.
/// </summary>
internal sealed class BackendFleet
{
    private readonly Lock _gate = new();
    private readonly CorralSettings _settings;
    private volatile View _view;

    public BackendFleet(IEnumerable<BackendOptions> backends, CorralSettings? settings = null)
    {
        _settings = settings ?? new CorralSettings();
        _view = new View(backends.Select(b => new Backend(b, _settings)).ToArray());
    }

    /// <summary>Raised after the set of backends or their configuration changed (outside the lock).</summary>
    public event Action? Changed;

    /// <summary>
    /// Raised when something the admin API shows of the fleet changed without changing where requests may go: a
    /// circuit opened, a diagnosis arrived, a backend's loaded models changed, the catalog listed the fleet again.
    /// With <see cref="Changed"/>, what the admin events stream waits on; raised only on a change, never for every request.
    /// </summary>
    public event Action? StatusChanged;

    public IReadOnlyList<Backend> All => _view.All;

    /// <summary>Every distinct model prefix, longest first (so the most specific one matches).</summary>
    public IReadOnlyList<string> Prefixes => _view.Prefixes;

    public IEnumerable<Backend> Enabled => All.Where(b => b.Enabled);

    public Backend? Find(string name) => _view.ByName.GetValueOrDefault(name);

    /// <summary>Adds a backend; false when the name is taken.</summary>
    public bool TryAdd(BackendOptions options, out Backend backend, BackendOrigin origin = BackendOrigin.Api)
    {
        lock (_gate)
        {
            if (Find(options.Name) is { } existing)
            {
                backend = existing;
                return false;
            }

            backend = new Backend(options, _settings) { Origin = origin };
            _view = new View([.. _view.All, backend]);
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>
    /// Changes a backend's configuration. The same URL keeps the backend (counters, health, loaded models); a new
    /// URL replaces it with a new backend in the same place, and the old one finishes what it has.
    /// </summary>
    public Backend? Update(string name, BackendOptions options)
    {
        Backend updated;
        lock (_gate)
        {
            if (Find(name) is not { } existing)
            {
                return null;
            }

            updated = Change(existing, options);
            _view = new View(_view.All.Select(b => b == existing ? updated : b).ToArray());
        }

        Changed?.Invoke();
        return updated;
    }

    /// <summary>Removes a backend; requests it is serving finish. False when there is no such backend.</summary>
    public bool Remove(string name)
    {
        lock (_gate)
        {
            if (Find(name) is not { } existing)
            {
                return false;
            }

            existing.Draining = true;
            _view = new View(_view.All.Where(b => b != existing).ToArray());
        }

        Changed?.Invoke();
        return true;
    }

    /// <summary>
    /// Makes the fleet match <paramref name="wanted"/> (a reloaded configuration): backends are matched by name,
    /// kept, changed, added or removed; the order becomes that of <paramref name="wanted"/>. Backends that
    /// <paramref name="keep"/> selects (added through the admin API) are left alone and stay after them.
    /// </summary>
    public FleetChange Apply(IReadOnlyList<BackendOptions> wanted, Func<Backend, bool>? keep = null)
    {
        var added = new List<string>();
        var changed = new List<string>();
        var removed = new List<string>();
        lock (_gate)
        {
            var next = new List<Backend>(wanted.Count);
            var used = new HashSet<Backend>();
            foreach (var options in wanted)
            {
                if (Find(options.Name) is { } existing && (keep is null || !keep(existing)))
                {
                    used.Add(existing);
                    if (existing.Options == options)
                    {
                        next.Add(existing);
                    }
                    else
                    {
                        next.Add(Change(existing, options));
                        changed.Add(options.Name);
                    }
                }
                else
                {
                    next.Add(new Backend(options, _settings));
                    added.Add(options.Name);
                }
            }

            foreach (var backend in _view.All)
            {
                if (used.Contains(backend))
                {
                    continue;
                }

                if (keep?.Invoke(backend) == true && next.All(b => !b.Name.Equals(backend.Name, StringComparison.OrdinalIgnoreCase)))
                {
                    next.Add(backend);
                    continue;
                }

                backend.Draining = true;
                removed.Add(backend.Name);
            }

            _view = new View([.. next]);
        }

        var change = new FleetChange(added, changed, removed);
        if (!change.IsEmpty)
        {
            Changed?.Invoke();
        }

        return change;
    }

    /// <summary>
    /// The backend that serves <paramref name="options"/> from now on: <paramref name="existing"/> itself when the URL
    /// is the same (counters, health and loaded models stay), otherwise a new backend, and the old one drains.
    /// </summary>
    private Backend Change(Backend existing, BackendOptions options)
    {
        if (existing.Options.Url == options.Url)
        {
            existing.Update(options);
            return existing;
        }

        existing.Draining = true;
        return new Backend(options, _settings) { Origin = existing.Origin };
    }

    /// <summary>Tells listeners (the catalog) that a backend's routing-relevant state changed.</summary>
    public void NotifyChanged() => Changed?.Invoke();

    /// <summary>Tells listeners (the admin events stream) that what the admin API shows changed (<see cref="StatusChanged"/>).</summary>
    public void NotifyStatusChanged() => StatusChanged?.Invoke();

    private sealed class View
    {
        public View(Backend[] all)
        {
            All = all;
            ByName = all.ToFrozenDictionary(b => b.Name, StringComparer.OrdinalIgnoreCase);
            Prefixes = all.Where(b => b.Options.Prefix is not null)
                .Select(b => b.Options.Prefix!)
                .Distinct(StringComparer.OrdinalIgnoreCase)
                .OrderByDescending(p => p.Length)
                .ToArray();
        }

        public Backend[] All { get; }

        public FrozenDictionary<string, Backend> ByName { get; }

        public string[] Prefixes { get; }
    }
}

/// <summary>What a reload or an admin call changed, by backend name.</summary>
internal sealed record FleetChange(IReadOnlyList<string> Added, IReadOnlyList<string> Changed, IReadOnlyList<string> Removed)
{
    public bool IsEmpty => Added.Count == 0 && Changed.Count == 0 && Removed.Count == 0;
}
