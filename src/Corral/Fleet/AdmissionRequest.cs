using Corral.Catalog;
using Corral.Hosting;

namespace Corral.Fleet;

/// <summary>One inference request asking the scheduler for a slot.</summary>
/// <param name="Model">The catalog entry: where the model lives.</param>
/// <param name="Fairness">Whose turn it is when several wait: the caller's key id.</param>
/// <param name="Session">A stickiness key (X-Corral-Session or OpenAI's <c>user</c>), or null.</param>
/// <param name="Excluded">Backends that already failed this request (failover skips them).</param>
/// <param name="Concurrency">The caller's own limit on requests holding slots (its key's <c>maxConcurrency</c>), or null.</param>
internal sealed record AdmissionRequest(CatalogModel Model, string Fairness, string? Session, IReadOnlySet<Backend> Excluded, ConcurrencyLimit? Concurrency = null)
{
    public static readonly IReadOnlySet<Backend> NoneExcluded = new HashSet<Backend>();

    /// <summary>Whether <paramref name="backend"/> may take the request: it takes requests, is a candidate of the model, and has not failed it.</summary>
    public bool IsEligible(Backend backend)
    {
        if (!backend.IsRoutable || (Excluded.Count > 0 && Excluded.Contains(backend)))
        {
            return false;
        }

        var candidates = Model.Candidates;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i] == backend)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the caller may hold one more slot (under the scheduler's lock).</summary>
    public bool CallerHasRoom => Concurrency is not { HasRoom: false };

    /// <summary>Whether a backend besides <paramref name="current"/> could take the request (failover has somewhere to go).</summary>
    public bool HasAlternativeTo(Backend current)
    {
        var candidates = Model.Candidates;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i] != current && IsEligible(candidates[i]))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Why a request could not be given a slot.</summary>
internal enum RejectionKind
{
    /// <summary>Every backend holding the model is down, draining or disabled (or already failed this request).</summary>
    NoBackend,

    /// <summary>The queue is at its length limit.</summary>
    QueueFull,

    /// <summary>The request waited the longest allowed without getting a slot.</summary>
    QueueTimeout,
}

/// <summary>A refusal: what kind, the words for the client, and when trying again makes sense.</summary>
internal sealed record Rejection(RejectionKind Kind, string Message, TimeSpan RetryAfter)
{
    /// <summary>Ollama's own text for a full queue (clients match on it).</summary>
    public const string ServerBusy = "server busy, please try again.  maximum pending requests exceeded";

    public static Rejection QueueFull(double expectedWaitMs) => new(RejectionKind.QueueFull, ServerBusy, RetryAfterOf(expectedWaitMs));

    public static Rejection QueueTimeout(string model, TimeSpan limit, double expectedWaitMs) => new(
        RejectionKind.QueueTimeout,
        $"server busy, please try again.  no slot for '{model}' freed within {Durations.Seconds(limit)} s (--queue-timeout)",
        RetryAfterOf(expectedWaitMs));

    /// <summary>No holder of the model can take it: each one is named with why it cannot (down, with its last error; draining; disabled).</summary>
    public static Rejection NoBackend(CatalogModel model, IReadOnlySet<Backend> excluded, TimeSpan retryAfter)
    {
        var unavailable = model.Holders
            .Where(b => !excluded.Contains(b) || !b.IsRoutable)
            .Select(b => b.State == BackendState.Unhealthy && b.Health.LastError is { } error
                ? $"{b.Describe()} is unhealthy: {error}"
                : $"{b.Describe()} is {b.State.ToString().ToLowerInvariant()}")
            .ToArray();
        var message = unavailable.Length == 0
            ? $"model '{model.Name}' has no backend left to try"
            : $"model '{model.Name}' is only on backends that are not available: {string.Join("; ", unavailable)}";
        return new Rejection(RejectionKind.NoBackend, message, retryAfter);
    }

    private static TimeSpan RetryAfterOf(double waitMs) => TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(waitMs / 1000), 1, 3600));
}
