using System.Text.Json;
using Corral.Catalog;
using Corral.Storage;

namespace Corral.Admin;

/// <summary>
/// The model presets added through the admin API: kept in the store as they change, read into the catalog's
/// <see cref="Presets"/> at start-up, after each change, and when another Corral on the same database changed them
/// (<see cref="SyncAsync"/>). A configuration reload leaves them alone.
/// </summary>
internal sealed partial class ApiPresets(IPresetStore store, Presets presets, TimeProvider time, ILogger<ApiPresets> logger) : IDisposable
{
    /// <summary>One change at a time (the admin API's and a sync's), so that the store and the presets in force agree.</summary>
    public SemaphoreSlim Changes { get; } = new(1, 1);

    public void Dispose() => Changes.Dispose();

    /// <summary>Makes the stored presets in force those of the store.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        await Changes.WaitAsync(cancellationToken);
        try
        {
            await LoadAsync(cancellationToken);
        }
        finally
        {
            Changes.Release();
        }
    }

    /// <summary>Stores a preset added or changed through the admin API and puts it in force; the caller holds <see cref="Changes"/>.</summary>
    public async Task SaveAsync(ModelPreset preset, CancellationToken cancellationToken)
    {
        await store.SavePresetAsync(new StoredPreset(preset.Name, PresetDefinitions.Json(preset), time.GetUtcNow()), cancellationToken);
        await LoadAsync(cancellationToken);
    }

    /// <summary>Forgets a preset deleted through the admin API; the caller holds <see cref="Changes"/>.</summary>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await store.DeletePresetAsync(name, cancellationToken);
        await LoadAsync(cancellationToken);
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var loaded = new List<ModelPreset>();
        foreach (var stored in await store.ListPresetsAsync(cancellationToken))
        {
            if (Read(stored) is { } preset)
            {
                loaded.Add(preset);
            }
        }

        presets.SetStored(loaded);
    }

    // A stored preset's definition; null, with a warning, when it no longer reads.
    private ModelPreset? Read(StoredPreset stored)
    {
        var problems = new List<string>();
        var where = $"stored preset '{stored.Name}'";
        ModelPreset? preset = null;
        try
        {
            using var document = JsonDocument.Parse(stored.DefinitionJson);
            preset = PresetDefinitions.Read(document.RootElement, where, problems, PresetOrigin.Api);
        }
        catch (JsonException e)
        {
            problems.Add($"{where}: not valid JSON: {e.Message}");
        }

        if (preset is null)
        {
            LogNotRestored(logger, stored.Name, string.Join("; ", problems));
        }

        return preset;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Preset {Preset}, added through the admin API, is not in force: {Problems}")]
    private static partial void LogNotRestored(ILogger logger, string preset, string problems);
}
