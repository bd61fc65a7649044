namespace Corral.Storage;

/// <summary>Where the model presets added through the admin API live, so that they survive a restart.</summary>
internal interface IPresetStore
{
    /// <summary>Every stored preset, in the order they were first added.</summary>
    Task<IReadOnlyList<StoredPreset>> ListPresetsAsync(CancellationToken cancellationToken);

    /// <summary>Adds the preset, or replaces the one stored under its name (compared without case).</summary>
    Task SavePresetAsync(StoredPreset preset, CancellationToken cancellationToken);

    /// <summary>Forgets a preset; false when none was stored under that name.</summary>
    Task<bool> DeletePresetAsync(string name, CancellationToken cancellationToken);
}
