using System.Text.Json.Serialization;

namespace Corral.Admin;

/// <summary>Answer of <c>GET /admin/api/usage</c>: the range (UTC), the grouping, and one entry per group.</summary>
internal sealed record UsageResponse(DateTime From, DateTime To, string GroupBy, UsageGroupResponse[] Groups);

/// <summary>
/// One group of a usage answer; <c>time</c> (its hour or day) only when grouped over time by a value
/// (<c>groupBy=hour,model</c>), <c>keyName</c> only when grouped by key.
/// </summary>
internal sealed record UsageGroupResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Time,
    string? Group,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? KeyName,
    long Requests,
    long Errors,
    long PromptTokens,
    long CompletionTokens,
    long TotalTokens,
    double? TtftMsP50,
    double? DurationMsP50,
    double? TtftMsAvg);

/// <summary>Answer of <c>GET /admin/api/usage/requests</c>: records, newest first.</summary>
internal sealed record UsageRequestsResponse(UsageRequestResponse[] Requests);

/// <summary>One request as recorded (times in ms; <c>time</c> is when it reached Corral, UTC).</summary>
internal sealed record UsageRequestResponse(
    DateTime Time,
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
