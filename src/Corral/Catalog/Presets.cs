namespace Corral.Catalog;

/// <summary>
/// The presets in force: those of the configuration file and those added through the admin API (stored). A name
/// defined in the file wins over a stored one of the same name. The catalog consults them when it builds a
/// snapshot (<see cref="CatalogSnapshot"/>), and builds a new one from the same listings when they change.
/// </summary>
internal sealed class Presets
{
    private readonly Lock _gate = new();
    private IReadOnlyList<ModelPreset> _configured = [];
    private IReadOnlyList<ModelPreset> _stored = [];
    private volatile IReadOnlyList<ModelPreset> _all = [];

    /// <summary>Raised after the presets changed.</summary>
    public event Action? Changed;

    /// <summary>Every preset in force: the file's, then the stored ones whose names the file does not use.</summary>
    public IReadOnlyList<ModelPreset> All => _all;

    /// <summary>The preset named <paramref name="name"/> (compared as model names are), or null.</summary>
    public ModelPreset? Find(string name)
    {
        var key = ModelName.Key(name);
        foreach (var preset in _all)
        {
            if (preset.Key == key)
            {
                return preset;
            }
        }

        return null;
    }

    /// <summary>Makes the file's presets <paramref name="presets"/> (at start-up and at each reload).</summary>
    public void SetConfigured(IReadOnlyList<ModelPreset> presets) => Set(ref _configured, presets);

    /// <summary>Makes the stored presets <paramref name="presets"/> (at start-up, after an admin change, after a sync).</summary>
    public void SetStored(IReadOnlyList<ModelPreset> presets) => Set(ref _stored, presets);

    private void Set(ref IReadOnlyList<ModelPreset> field, IReadOnlyList<ModelPreset> presets)
    {
        lock (_gate)
        {
            if (field.SequenceEqual(presets, PresetEquality.Instance))
            {
                return;
            }

            field = presets;
            var configured = _configured.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
            _all = [.. _configured, .. _stored.Where(p => !configured.Contains(p.Key))];
        }

        Changed?.Invoke();
    }

    // Two presets are the same when their definitions are (JsonElement compares by document, not by value).
    private sealed class PresetEquality : IEqualityComparer<ModelPreset>
    {
        public static readonly PresetEquality Instance = new();

        public bool Equals(ModelPreset? x, ModelPreset? y) =>
            x is not null && y is not null && x.Origin == y.Origin && PresetDefinitions.Json(x) == PresetDefinitions.Json(y);

        public int GetHashCode(ModelPreset obj) => obj.Key.GetHashCode(StringComparison.Ordinal);
    }
}
