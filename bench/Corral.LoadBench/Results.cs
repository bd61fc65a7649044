namespace Corral.LoadBench;

/// <summary>The medians of one front door in one cell over the rounds; latencies in microseconds.</summary>
internal sealed record TargetFigures(double RequestsPerSecond, double P50Us, double P99Us, long Non2xx, long SocketErrors, IReadOnlyList<WrkResult> Runs)
{
    public static TargetFigures? Of(IReadOnlyList<WrkResult> runs) => runs.Count == 0
        ? null
        : new TargetFigures(
            Stats.Median(runs.Select(r => r.RequestsPerSecond)),
            Stats.Median(runs.Select(r => r.P50Us)),
            Stats.Median(runs.Select(r => r.P99Us)),
            runs.Sum(r => r.Non2xx),
            runs.Sum(r => r.SocketErrors),
            runs);
}

/// <summary>One concurrency of one scenario: the three front doors and how Corral compares.</summary>
internal sealed record ThroughputRow(
    int Concurrency,
    TargetFigures? Direct,
    TargetFigures? Nginx,
    TargetFigures Corral,
    double? CorralToNginx,
    double? CorralAddedP50Us,
    double? NginxAddedP50Us,
    double? ChunksPerSecond);

internal sealed record ThroughputTable(string Name, string Title, string Request, string? Note, int? ChunksPerResponse, IReadOnlyList<ThroughputRow> Rows);

/// <summary>Time to first token and the gaps between lines, direct, through nginx and through Corral, at model speed.</summary>
internal sealed record StreamTimingFigures(
    double TokensPerSecond,
    int TokensPerAnswer,
    int LinesPerAnswer,
    int Requests,
    LineTiming Direct,
    LineTiming Nginx,
    LineTiming Corral)
{
    public double TtftAddedUs => Corral.FirstLineMedianUs - Direct.FirstLineMedianUs;

    public double NginxTtftAddedUs => Nginx.FirstLineMedianUs - Direct.FirstLineMedianUs;
}

/// <summary>How the lines of streamed answers arrived through one front door.</summary>
/// <param name="FirstLineMedianUs">Median time from sending the request to the first line.</param>
/// <param name="GapMedianUs">Median time between consecutive token lines.</param>
/// <param name="GapP99Us">99th percentile of the same.</param>
/// <param name="BunchedLines">Token lines that arrived less than a quarter of the token interval after the previous one.</param>
/// <param name="MultiLineReads">Reads that returned two or more token lines at once.</param>
internal sealed record LineTiming(double FirstLineMedianUs, double GapMedianUs, double GapP99Us, int BunchedLines, int MultiLineReads);

/// <summary>Corral's resident memory idle and with many streams open.</summary>
internal sealed record MemoryFigures(
    long IdleRssBytes,
    int Streams,
    double TokensPerSecond,
    int TokensPerStream,
    double SecondsToOpenAll,
    int StreamsOpenWhenSampled,
    long OpenRssBytes,
    long PeakRssBytes,
    int Completed,
    int Dropped,
    IReadOnlyList<string> Errors,
    long AfterRssBytes,
    string OpenFilesLimit);

/// <summary>The merged model list of a large simulated fleet.</summary>
internal sealed record FleetFigures(
    int Backends,
    int ModelsPerBackend,
    int SharedModels,
    int MergedModels,
    long ResponseBytes,
    double StartToHealthyMs,
    double ColdTagsMs,
    int WarmRequests,
    double WarmMedianMs,
    double WarmP99Ms,
    long CorralRssBytes);

/// <summary>Usage queries over a month of records served by Corral from its store.</summary>
internal sealed record UsageFigures(
    long Records,
    int Days,
    double CreateSeconds,
    double CreateCpuSeconds,
    double WriteCpuSeconds,
    long DatabaseBytes,
    long RollupRows,
    int Groups,
    double ColdQueryMs,
    double WarmMedianMs,
    double WarmMaxMs,
    IReadOnlyList<UsageQueryTime> OtherQueries,
    long CorralRssBytes);

/// <summary>One other usage query and its warm time.</summary>
internal sealed record UsageQueryTime(string Query, double Milliseconds);

/// <summary>One target of the issue, with the measured value and the verdict.</summary>
internal sealed record TargetVerdict(string Target, string Measured, string Verdict);

/// <summary>Where it ran: the machine, tools and the Corral commit.</summary>
internal sealed record MachineDescription(
    int Processors,
    string CpuModel,
    string Memory,
    string OperatingSystem,
    string Kernel,
    string DotnetRuntime,
    string Nginx,
    string Wrk,
    string CorralCommit,
    string LoadAverageAtStart,
    string LoadAverageAtEnd,
    string OpenFilesLimit);

/// <summary>Everything one run produced: what goes into the JSON and Markdown files.</summary>
internal sealed record BenchReport
{
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>The command line that produced it.</summary>
    public required string Command { get; init; }

    public double DurationMinutes { get; set; }

    public required MachineDescription Machine { get; set; }

    public required string Method { get; init; }

    public required int Rounds { get; init; }

    public required int SecondsPerRun { get; init; }

    public required IReadOnlyList<int> Concurrencies { get; init; }

    public IReadOnlyList<ThroughputTable> Throughput { get; set; } = [];

    public long? CorralRssAfterThroughputBytes { get; set; }

    public long? CorralPeakRssDuringThroughputBytes { get; set; }

    public StreamTimingFigures? StreamTiming { get; set; }

    public MemoryFigures? Memory { get; set; }

    public FleetFigures? Fleet { get; set; }

    public UsageFigures? Usage { get; set; }

    public IReadOnlyList<TargetVerdict> Targets { get; set; } = [];

    public List<string> Notes { get; } = [];
}
