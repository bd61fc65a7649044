using System.Collections.Frozen;

namespace Corral.Fleet;

/// <summary>All configured backends, in configuration order.</summary>
internal sealed class BackendFleet
{
    private readonly FrozenDictionary<string, Backend> _byName;

    public BackendFleet(IEnumerable<BackendOptions> backends)
    {
        All = backends.Select(b => new Backend(b)).ToArray();
        _byName = All.ToFrozenDictionary(b => b.Name, StringComparer.OrdinalIgnoreCase);
        Prefixes = All.Where(b => b.Options.Prefix is not null)
            .Select(b => b.Options.Prefix!)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .OrderByDescending(p => p.Length)
            .ToArray();
    }

    public IReadOnlyList<Backend> All { get; }

    /// <summary>Every distinct model prefix, longest first (so the most specific one matches).</summary>
    public IReadOnlyList<string> Prefixes { get; }

    public IEnumerable<Backend> Enabled => All.Where(b => b.Enabled);

    public Backend? Find(string name) => _byName.GetValueOrDefault(name);
}
