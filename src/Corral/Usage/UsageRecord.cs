namespace Corral.Usage;

/// <summary>
/// One request as it is stored, logged and counted once it ended: who asked for what, what Corral did, what it
/// cost. Built from the request's <see cref="Pipeline.RequestRecord"/> when the answer is over; immutable, so the
/// store, the metrics and the request log can each keep it as long as they need.
/// </summary>
internal sealed record UsageRecord
{
    /// <summary>When the request reached Corral.</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>The caller's key; null when the request carried no valid key (a 401).</summary>
    public string? KeyId { get; init; }

    public string? KeyName { get; init; }

    /// <summary>The end user behind a shared key, when the key may name one (<c>assertsUsers</c>).</summary>
    public string? User { get; init; }

    /// <summary>The route as mapped, without the <c>/ollama</c> door: <c>/api/chat</c>, <c>/v1/chat/completions</c>, <c>(unmatched)</c>.</summary>
    public required string Route { get; init; }

    /// <summary>The model as the client asked for it.</summary>
    public string? Model { get; init; }

    /// <summary>The catalog's id of the model the request was routed to; null when none was found.</summary>
    public string? ResolvedModel { get; init; }

    /// <summary>The backend that answered (the last one tried); null when none was called.</summary>
    public string? Backend { get; init; }

    /// <summary>The status the client got; 499 when it left before any answer.</summary>
    public required int Status { get; init; }

    /// <summary>What went wrong, in the words the client got (or the backend's), if anything did.</summary>
    public string? Error { get; init; }

    public int PromptTokens { get; init; }

    public int CompletionTokens { get; init; }

    /// <summary>Time spent waiting in Corral's queue for a slot.</summary>
    public double QueueMs { get; init; }

    /// <summary>Time until the first byte of the answer's body reached the client; null when no backend answered.</summary>
    public double? TtftMs { get; init; }

    public double DurationMs { get; init; }

    /// <summary>Time spent in Corral itself before the answer started: the total less the queue and the backend.</summary>
    public double OverheadMs { get; init; }

    public long BytesIn { get; init; }

    public long BytesOut { get; init; }

    /// <summary>Backends tried (1 without failover, 0 when none was called).</summary>
    public int Attempts { get; init; }

    /// <summary>The client left before the answer was complete.</summary>
    public bool Cancelled { get; init; }

    /// <summary>Backends that failed this request before another was tried (for the failover metric; not stored).</summary>
    public IReadOnlyList<string> FailedOver { get; init; } = [];

    /// <summary>The request body as the client sent it; only with <c>--log-bodies</c>, for the request log.</summary>
    public string? RequestBody { get; init; }

    /// <summary>The answer's text (the model's content); only with <c>--log-bodies</c>, for the request log.</summary>
    public string? ResponseText { get; init; }
}
