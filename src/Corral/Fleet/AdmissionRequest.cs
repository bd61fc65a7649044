using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>One inference request asking the scheduler for a slot.</summary>
/// <param name="Model">The catalog entry: where the model lives.</param>
/// <param name="Fairness">Whose turn it is when several wait: the caller's key id.</param>
/// <param name="Session">A stickiness key (X-Corral-Session or OpenAI's <c>user</c>), or null.</param>
/// <param name="Excluded">Backends that already failed this request (failover skips them).</param>
internal sealed record AdmissionRequest(CatalogModel Model, string Fairness, string? Session, IReadOnlySet<Backend> Excluded)
{
    public static readonly IReadOnlySet<Backend> NoneExcluded = new HashSet<Backend>();
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
internal sealed record Rejection(RejectionKind Kind, string Message, TimeSpan RetryAfter);
