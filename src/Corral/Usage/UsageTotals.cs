namespace Corral.Usage;

/// <summary>
/// What a set of requests added up to: counts, tokens, and the histograms of time to first byte and duration.
/// One hourly rollup row holds one; a query adds them up per group. Merging is plain addition, the same for every
/// store. Not thread-safe.
/// </summary>
internal sealed class UsageTotals
{
    public long Requests { get; private set; }

    /// <summary>Requests answered with a status of 400 or more.</summary>
    public long Errors { get; private set; }

    public long PromptTokens { get; private set; }

    public long CompletionTokens { get; private set; }

    /// <summary>Time to first byte, of the requests that had one.</summary>
    public LogHistogram Ttft { get; } = new();

    public LogHistogram Duration { get; } = new();

    /// <summary>Whether a status counts as an error.</summary>
    public static bool IsError(int status) => status >= 400;

    /// <summary>Counts one request.</summary>
    public void Add(int status, long promptTokens, long completionTokens, double? ttftMs, double durationMs)
    {
        Requests++;
        if (IsError(status))
        {
            Errors++;
        }

        PromptTokens += promptTokens;
        CompletionTokens += completionTokens;
        if (ttftMs is { } ttft)
        {
            Ttft.AddMilliseconds(ttft);
        }

        Duration.AddMilliseconds(durationMs);
    }

    /// <summary>Adds the counters of a stored rollup and its encoded histograms.</summary>
    public void Add(long requests, long errors, long promptTokens, long completionTokens, ReadOnlySpan<byte> ttft, ReadOnlySpan<byte> duration)
    {
        Requests += requests;
        Errors += errors;
        PromptTokens += promptTokens;
        CompletionTokens += completionTokens;
        Ttft.MergeEncoded(ttft);
        Duration.MergeEncoded(duration);
    }

    public void Merge(UsageTotals other)
    {
        Requests += other.Requests;
        Errors += other.Errors;
        PromptTokens += other.PromptTokens;
        CompletionTokens += other.CompletionTokens;
        Ttft.Merge(other.Ttft);
        Duration.Merge(other.Duration);
    }
}
