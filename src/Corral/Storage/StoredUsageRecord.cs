namespace Corral.Storage;

/// <summary>A usage record as read back: every stored field of <see cref="Usage.UsageRecord"/>, times to the millisecond.</summary>
internal sealed record StoredUsageRecord(
    DateTimeOffset Time,
    string? KeyId,
    string? KeyName,
    string? User,
    string Route,
    string? Model,
    string? ResolvedModel,
    string? Backend,
    int Status,
    string? Error,
    int PromptTokens,
    int CompletionTokens,
    double QueueMs,
    double? TtftMs,
    double DurationMs,
    double OverheadMs,
    long BytesIn,
    long BytesOut,
    int Attempts,
    bool Cancelled);
