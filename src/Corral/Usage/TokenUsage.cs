namespace Corral.Usage;

/// <summary>
/// Tokens one request consumed, read from the backend's final metrics (<c>prompt_eval_count</c>,
/// <c>eval_count</c>). Set as an HttpContext feature when known, for usage records to pick up.
/// </summary>
internal sealed class TokenUsage
{
    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    public int TotalTokens => PromptTokens + CompletionTokens;
}
