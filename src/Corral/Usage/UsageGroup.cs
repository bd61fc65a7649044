namespace Corral.Usage;

/// <summary>
/// One group of a usage query: its hour or day (ISO) when grouped over time by a value, its value (a model, key id,
/// user, backend, route, status, or an ISO hour or day; null for requests that had none), the key's name when
/// grouped by key, and what its requests added up to. Medians are in milliseconds, within 2.5%
/// (<see cref="LogHistogram"/>); the average time to first byte is exact; each null when no request had one.
/// </summary>
internal sealed record UsageGroup(
    string? Time,
    string? Group,
    string? KeyName,
    long Requests,
    long Errors,
    long PromptTokens,
    long CompletionTokens,
    double? TtftMsP50,
    double? DurationMsP50,
    double? TtftMsAvg)
{
    public long TotalTokens => PromptTokens + CompletionTokens;
}
