namespace Corral.Catalog;

/// <summary>
/// A preset as one catalog snapshot sees it: its base (null while no backend lists it: requests are answered 404
/// naming the base) and the listed model that has its name (the model wins; the preset is a problem to fix).
/// </summary>
internal sealed record PresetEntry(ModelPreset Preset, CatalogModel? Base, CatalogModel? Shadowed)
{
    /// <summary>What is wrong with the preset in this snapshot, in words, or null.</summary>
    public string? Problem => Shadowed is { } model
        ? $"preset '{Preset.Name}' has the name of the model '{model.Name}' that {string.Join(", ", model.Holders.Select(b => b.Name))} list(s); the model is served, not the preset: rename the preset"
        : Base is null
            ? $"preset '{Preset.Name}': its base model '{Preset.Model}' is not listed by any backend; requests for '{Preset.Name}' are answered 404 until it is"
            : null;
}
