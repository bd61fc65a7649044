using System.Text.Json;

namespace Corral.Catalog;

/// <summary>
/// A model of Corral's own: a name clients ask for, run on a base model (<see cref="Model"/>, a catalog id) with
/// settings that win over the client's, as Open WebUI's model parameters do. Only a name and a base: an alias.
/// </summary>
internal sealed record ModelPreset(string Name, string Model)
{
    /// <summary>The system prompt, put before the client's own.</summary>
    public string? System { get; init; }

    /// <summary>Ollama's <c>options</c> (temperature, num_ctx, top_p…), a JSON object.</summary>
    public JsonElement? Options { get; init; }

    /// <summary>The <c>keep_alive</c> as written (seconds or a duration such as <c>"30m"</c>).</summary>
    public JsonElement? KeepAlive { get; init; }

    /// <summary><see cref="KeepAlive"/> read (negative: for ever).</summary>
    public TimeSpan? KeepAliveSpan { get; init; }

    /// <summary><c>think</c>: true, false, or <c>"low"</c>, <c>"medium"</c>, <c>"high"</c>, <c>"max"</c>.</summary>
    public JsonElement? Think { get; init; }

    /// <summary><c>format</c>: <c>"json"</c> or a JSON schema.</summary>
    public JsonElement? Format { get; init; }

    public string? Description { get; init; }

    /// <summary>Where the preset was defined.</summary>
    public PresetOrigin Origin { get; init; }

    /// <summary>The lookup key of the preset's name, as <see cref="ModelName.Key"/> gives for models.</summary>
    public string Key { get; } = ModelName.Key(Name);

    /// <summary>The lookup key of the base.</summary>
    public string BaseKey { get; } = ModelName.Key(Model);
}

/// <summary>Where a preset comes from: the configuration file (changed there) or the admin API (stored).</summary>
internal enum PresetOrigin
{
    Config,
    Api,
}
