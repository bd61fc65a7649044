namespace Corral.Fleet;

/// <summary>
/// One Ollama server as configured: where it is, how to call it, and what of it to expose. Two options are equal
/// when every field is, lists compared by content, so that a reloaded configuration leaves unchanged backends alone.
/// </summary>
internal sealed record BackendOptions
{
    /// <summary>Unique name used in errors, the admin API and <c>?backend=NAME</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Base URL of the Ollama server, e.g. <c>http://10.0.0.5:11434</c> (no trailing slash).</summary>
    public required Uri Url { get; init; }

    public bool Enabled { get; init; } = true;

    /// <summary>Bearer token Corral sends to this backend (for an auth-fronted Ollama); never the client's.</summary>
    public string? Key { get; init; }

    /// <summary>Model id prefix: the backend's models appear as <c>prefix.model</c>.</summary>
    public string? Prefix { get; init; }

    /// <summary>Allow-list of model names; empty means every model of the backend is exposed.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    public IReadOnlyList<string> Tags { get; init; } = [];

    public double Weight { get; init; } = 1;

    /// <summary>
    /// Parallel requests per model this backend takes (its OLLAMA_NUM_PARALLEL); 0 means unlimited, null means
    /// the global default (<c>--max-concurrency</c>, 1 like Ollama's).
    /// </summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Priority tier: lower tiers are preferred; a later tier is used when every earlier one is full or down.</summary>
    public int Priority { get; init; }

    /// <summary>Per-backend timeouts; null uses the global ones.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    public TimeSpan? FirstByteTimeout { get; init; }

    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>Field by field; <see cref="Models"/> and <see cref="Tags"/> by content and order (a record compares lists by reference).</summary>
    public bool Equals(BackendOptions? other) =>
        other is not null
        && Name == other.Name
        && Url == other.Url
        && Enabled == other.Enabled
        && Key == other.Key
        && Prefix == other.Prefix
        && Models.SequenceEqual(other.Models, StringComparer.Ordinal)
        && Tags.SequenceEqual(other.Tags, StringComparer.Ordinal)
        && Weight.Equals(other.Weight)
        && MaxConcurrency == other.MaxConcurrency
        && Priority == other.Priority
        && ConnectTimeout == other.ConnectTimeout
        && FirstByteTimeout == other.FirstByteTimeout
        && IdleTimeout == other.IdleTimeout;

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name, StringComparer.Ordinal);
        hash.Add(Url);
        hash.Add(Enabled);
        hash.Add(Key, StringComparer.Ordinal);
        hash.Add(Prefix, StringComparer.Ordinal);
        foreach (var model in Models)
        {
            hash.Add(model, StringComparer.Ordinal);
        }

        hash.Add(Models.Count);
        foreach (var tag in Tags)
        {
            hash.Add(tag, StringComparer.Ordinal);
        }

        hash.Add(Weight);
        hash.Add(MaxConcurrency);
        hash.Add(Priority);
        hash.Add(ConnectTimeout);
        hash.Add(FirstByteTimeout);
        hash.Add(IdleTimeout);
        return hash.ToHashCode();
    }
}
