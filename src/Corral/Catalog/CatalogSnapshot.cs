using System.Collections.Frozen;
using System.Text.Json;

namespace Corral.Catalog;

/// <summary>
/// An immutable merged view of every enabled backend's models, built once per refresh. The /api/tags answer
/// is rendered here, once, so serving it costs a copy.
/// </summary>
internal sealed class CatalogSnapshot
{
    private const int MaxResolvedNames = 4096;
    private const int MaxResolvedNameLength = 256;
    private readonly FrozenDictionary<string, CatalogModel> _byKey;
    private readonly FrozenDictionary<string, PresetEntry> _presets;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CatalogMatch> _resolved = new(StringComparer.Ordinal);

    private CatalogSnapshot(IReadOnlyList<CatalogModel> models, FrozenDictionary<string, CatalogModel> byKey, IReadOnlyList<PresetEntry> presets, IReadOnlyList<BackendListing> listings, IReadOnlyList<DigestConflict> conflicts, DateTimeOffset createdAt)
    {
        Models = models;
        _byKey = byKey;
        Presets = presets;
        _presets = presets.Where(p => p.Shadowed is null).GroupBy(p => p.Preset.Key, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        Listings = listings;
        Conflicts = conflicts;
        TagsJson = RenderTags(models, presets);
        CreatedAt = createdAt;
    }

    public IReadOnlyList<CatalogModel> Models { get; }

    /// <summary>Every preset in force, with its base as this snapshot finds it.</summary>
    public IReadOnlyList<PresetEntry> Presets { get; }

    public IReadOnlyList<BackendListing> Listings { get; }

    public IReadOnlyList<DigestConflict> Conflicts { get; }

    /// <summary>The merged <c>{"models":[...]}</c> answer of /api/tags, UTF-8.</summary>
    public byte[] TagsJson { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>
    /// A requested name already resolved against this snapshot (clients repeat the same few names, and
    /// resolving one builds several strings). Bounded in number and length, since names come from clients. The match holds the name as
    /// first asked, so that requests naming the same model share one string object.
    /// </summary>
    public CatalogMatch Resolve<TState>(string requested, TState state, Func<string, TState, CatalogModel?> resolve)
    {
        if (_resolved.TryGetValue(requested, out var match))
        {
            return match;
        }

        // A model a backend lists wins over a preset of the same name (reported as a problem of the preset).
        var model = resolve(requested, state);
        match = model is null && _presets.Count > 0 && _presets.GetValueOrDefault(ModelName.Key(requested)) is { } preset
            ? new CatalogMatch(requested, preset.Base, preset.Preset)
            : new CatalogMatch(requested, model);
        if (_resolved.Count < MaxResolvedNames && requested.Length <= MaxResolvedNameLength)
        {
            _resolved.TryAdd(requested, match);
        }

        return match;
    }

    /// <summary>The /api/tags answer with only the models <paramref name="shown"/> lets through (a key's allow-list).</summary>
    public byte[] TagsJsonOf(Func<string, bool> shown) => RenderTags([.. Models.Where(m => shown(m.Name))], [.. Presets.Where(p => shown(p.Preset.Name))]);

    /// <summary>A preset in force by its name (as clients ask for it), or null; one a listed model shadows is not.</summary>
    public PresetEntry? FindPreset(string name) => _presets.GetValueOrDefault(ModelName.Key(name));

    /// <summary>Finds a model by the lookup key from <see cref="ModelCatalog.KeyOf"/>.</summary>
    public CatalogModel? Find(string key) => _byKey.GetValueOrDefault(key);

    /// <summary>
    /// Merges backend listings in configuration order; the first backend's entry is the one shown. Each of
    /// <paramref name="presets"/> is given its base, found by <paramref name="keyOf"/> (the catalog's lookup key of a
    /// requested name, prefixes included).
    /// </summary>
    public static CatalogSnapshot Build(IReadOnlyList<BackendListing> listings, DateTimeOffset now, IReadOnlyList<ModelPreset>? presets = null, Func<string, string>? keyOf = null)
    {
        var order = new List<string>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var locations = new Dictionary<string, List<ModelLocation>>(StringComparer.Ordinal);
        foreach (var listing in listings)
        {
            var backend = listing.Backend;
            foreach (var entry in listing.Models)
            {
                var upstreamName = ListingWriter.NameOf(entry);
                if (upstreamName is null || !backend.Admits(upstreamName))
                {
                    continue;
                }

                var key = ModelCatalog.KeyFor(backend.Options.Prefix, upstreamName);
                if (!locations.TryGetValue(key, out var list))
                {
                    list = [];
                    locations[key] = list;
                    order.Add(key);
                    names[key] = backend.Options.Prefix is { } p ? p + "." + upstreamName : upstreamName;
                }

                if (!list.Exists(l => l.Backend == backend))
                {
                    var digest = entry.TryGetProperty("digest"u8, out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                    list.Add(new ModelLocation(backend, upstreamName, digest, entry));
                }
            }
        }

        var listedOk = listings.Where(l => l.Ok).Select(l => l.Backend).ToHashSet();
        var models = order.Select(k => new CatalogModel(names[k], locations[k], listedOk.Contains)).ToArray();
        var byKey = new Dictionary<string, CatalogModel>(order.Count, StringComparer.Ordinal);
        for (var i = 0; i < order.Count; i++)
        {
            byKey[order[i]] = models[i];
        }

        var conflicts = models
            .Where(m => m.Locations.Select(l => l.Digest).Distinct(StringComparer.OrdinalIgnoreCase).Count() > 1)
            .Select(m => new DigestConflict(m.Name, m.Locations.Select(l => (l.Backend.Name, l.Digest)).ToArray()))
            .ToArray();

        var frozen = byKey.ToFrozenDictionary(StringComparer.Ordinal);
        var entries = (presets ?? []).Select(p => new PresetEntry(
            p,
            frozen.GetValueOrDefault(keyOf?.Invoke(p.Model) ?? p.BaseKey) ?? frozen.GetValueOrDefault(p.BaseKey),
            frozen.GetValueOrDefault(keyOf?.Invoke(p.Name) ?? p.Key) ?? frozen.GetValueOrDefault(p.Key))).ToArray();
        return new CatalogSnapshot(models, frozen, entries, listings, conflicts, now);
    }

    private static byte[] RenderTags(IReadOnlyList<CatalogModel> models, IReadOnlyList<PresetEntry> presets)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("models");
            foreach (var model in models)
            {
                var first = model.Locations[0];
                ListingWriter.WriteModel(writer, first.Listing, first.Backend.Options.Prefix);
            }

            foreach (var entry in presets)
            {
                if (entry is { Base: { } model, Shadowed: null })
                {
                    ListingWriter.WritePreset(writer, model.Locations[0].Listing, entry.Preset.Name, model.Name);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
