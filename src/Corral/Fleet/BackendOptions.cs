namespace Corral.Fleet;

/// <summary>One Ollama server as configured: where it is, how to call it, and what of it to expose.</summary>
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
}
