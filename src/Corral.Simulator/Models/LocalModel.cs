namespace Corral.Simulator.Models;

/// <summary>A model in the simulator's local store (what <c>/api/tags</c> lists).</summary>
internal sealed class LocalModel
{
    public LocalModel(string name, string digest, DateTimeOffset modifiedAt, ModelTraits traits)
    {
        Name = name;
        Digest = digest;
        ModifiedAt = modifiedAt;
        Traits = traits;
    }

    /// <summary>Normalized display name, e.g. <c>llama3.2:latest</c>.</summary>
    public string Name { get; }

    /// <summary>Manifest digest: 64 lowercase hex characters.</summary>
    public string Digest { get; }

    public DateTimeOffset ModifiedAt { get; }

    public ModelTraits Traits { get; }

    public long Size => Traits.Size;

    public string Key => ModelName.Key(Name);
}
