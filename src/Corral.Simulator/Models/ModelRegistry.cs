using System.Security.Cryptography;
using System.Text;

namespace Corral.Simulator.Models;

/// <summary>The simulator's local models, changed by pull, create, copy and delete.</summary>
internal sealed class ModelRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LocalModel> _models = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public ModelRegistry(IEnumerable<string> names, TimeProvider time)
    {
        _time = time;
        var now = time.GetUtcNow();
        var age = 0;
        foreach (var name in names)
        {
            var normalized = ModelName.Normalize(name) ?? throw new ArgumentException($"Invalid model name '{name}'.", nameof(names));

            // Older for each later name so that /api/tags (newest first) lists them in the order given.
            age++;
            var modifiedAt = now.AddDays(-age).AddTicks(-1_234_567 * age);
            _models[ModelName.Key(normalized)] = Create(normalized, modifiedAt);
        }
    }

    public static string DigestOf(string normalizedName) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("corral-sim/" + ModelName.Key(normalizedName))));

    /// <summary>Finds a model by any spelling of its name; null when absent or the name is invalid.</summary>
    public LocalModel? Find(string? name)
    {
        var normalized = ModelName.Normalize(name);
        if (normalized is null)
        {
            return null;
        }

        lock (_gate)
        {
            return _models.GetValueOrDefault(ModelName.Key(normalized));
        }
    }

    /// <summary>Newest first, like Ollama's list handler.</summary>
    public IReadOnlyList<LocalModel> List()
    {
        lock (_gate)
        {
            return [.. _models.Values.OrderByDescending(m => m.ModifiedAt)];
        }
    }

    /// <summary>Adds (or refreshes) a model as if its manifest had just been written.</summary>
    public LocalModel AddOrReplace(string normalizedName)
    {
        var model = Create(normalizedName, _time.GetUtcNow());
        lock (_gate)
        {
            _models[model.Key] = model;
        }

        return model;
    }

    /// <summary>Copies a model: same manifest, so the same digest and details.</summary>
    public LocalModel Copy(LocalModel source, string normalizedDestination)
    {
        var copy = new LocalModel(normalizedDestination, source.Digest, _time.GetUtcNow(), source.Traits);
        lock (_gate)
        {
            _models[copy.Key] = copy;
        }

        return copy;
    }

    public bool Remove(LocalModel model)
    {
        lock (_gate)
        {
            return _models.Remove(model.Key);
        }
    }

    private static LocalModel Create(string normalizedName, DateTimeOffset modifiedAt) =>
        new(normalizedName, DigestOf(normalizedName), modifiedAt, ModelTraits.For(normalizedName));
}
