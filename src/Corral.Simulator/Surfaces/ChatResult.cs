namespace Corral.Simulator.Surfaces;

/// <summary>
/// The done /api/chat chunk: when streamed, only the done reason and metrics (content empty); otherwise the whole
/// answer as well.
/// </summary>
internal sealed record ChatResult(
    string Model,
    string Content,
    string? Thinking,
    byte[]? ToolCall,
    string DoneReason,
    long PromptEvalCount,
    long EvalCount,
    DateTimeOffset CreatedAt);
