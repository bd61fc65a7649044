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

    /// <summary>Requests counted in <see cref="TtftSumUs"/> (those that had a first byte).</summary>
    public long TtftCount { get; private set; }

    /// <summary>The times to first byte added up, in µs, for an exact average (the histogram gives medians).</summary>
    public long TtftSumUs { get; private set; }

    /// <summary>The average time to first byte in ms; null when no request had one.</summary>
    public double? TtftMsAverage => TtftCount == 0 ? null : TtftSumUs / 1000.0 / TtftCount;

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
            TtftCount++;
            TtftSumUs += Storage.SqliteUsageWriteSession.Micros(ttft);
        }

        Duration.AddMilliseconds(durationMs);
    }

    /// <summary>Adds the counters of a stored rollup and its encoded histograms.</summary>
    public void Add(long requests, long errors, long promptTokens, long completionTokens, long ttftCount, long ttftSumUs, ReadOnlySpan<byte> ttft, ReadOnlySpan<byte> duration)
    {
        Requests += requests;
        Errors += errors;
        PromptTokens += promptTokens;
        CompletionTokens += completionTokens;
        TtftCount += ttftCount;
        TtftSumUs += ttftSumUs;
        Ttft.MergeEncoded(ttft);
        Duration.MergeEncoded(duration);
    }

    public void Merge(UsageTotals other)
    {
        Requests += other.Requests;
        Errors += other.Errors;
        PromptTokens += other.PromptTokens;
        CompletionTokens += other.CompletionTokens;
        TtftCount += other.TtftCount;
        TtftSumUs += other.TtftSumUs;
        Ttft.Merge(other.Ttft);
        Duration.Merge(other.Duration);
    }
}
