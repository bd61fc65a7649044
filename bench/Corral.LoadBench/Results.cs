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

/// <summary>The comparison mode: non-streamed chat through each front door, medians over rounds, and perf counts.</summary>
/// <param name="Doors">In the order they were driven in each round.</param>
/// <param name="Ratios">Throughput at c=64 of one door over another, and the difference of their p50 at c=1.</param>
/// <param name="LoadAverages">The machine's load average as each round began.</param>
/// <param name="Perf">With --perf: one extra c=64 run per door with perf stat on the door's processes.</param>
/// <param name="BackendPerf">The fake backend's processes during the same runs.</param>
/// <param name="PerfProblem">Why perf did not run or did not count, if it did not.</param>
internal sealed record CompareFigures(
    IReadOnlyList<CompareDoor> Doors,
    IReadOnlyList<CompareRatio> Ratios,
    IReadOnlyList<string> LoadAverages,
    IReadOnlyList<PerfRun> Perf,
    IReadOnlyList<PerfRun> BackendPerf,
    string? PerfProblem);

/// <summary>One front door of the comparison.</summary>
/// <param name="Name">nginx, corral, corral-limited, corral-off, baseline.</param>
/// <param name="Description">What it is: the build, its flags.</param>
/// <param name="Throughput">c=64, medians over rounds.</param>
/// <param name="Latency">c=1, medians over rounds.</param>
/// <param name="SettleCurve">Requests/s of the runs that settled a Corral before the rounds; empty for nginx.</param>
/// <param name="RssBytes">A Corral's resident memory after the rounds.</param>
/// <param name="RequestLogLines">JSON lines a Corral wrote to its output file (its request log) over the whole run.</param>
/// <param name="RequestsServed">Requests wrk completed through the door over the whole run (settling included).</param>
internal sealed record CompareDoor(
    string Name,
    string Description,
    TargetFigures Throughput,
    TargetFigures Latency,
    IReadOnlyList<double> SettleCurve,
    long? RssBytes,
    long? RequestLogLines,
    long RequestsServed);

/// <summary>One door against another.</summary>
/// <param name="Numerator">The door measured, e.g. corral.</param>
/// <param name="Denominator">The door it is measured against, e.g. nginx.</param>
/// <param name="Throughput">Median req/s at c=64 over median req/s at c=64.</param>
/// <param name="PerRound">The same ratio within each round (the two doors ran seconds apart).</param>
/// <param name="P50DifferenceUs">Median p50 at c=1 minus the other's.</param>
internal sealed record CompareRatio(string Numerator, string Denominator, double Throughput, IReadOnlyList<double> PerRound, double P50DifferenceUs)
{
    public string Name => $"{Numerator}/{Denominator}";
}

/// <summary>One c=64 run through a door with its processes counted: perf stat over a window holding the run, and /proc just before and after it.</summary>
/// <param name="Door">The door wrk drove.</param>
/// <param name="Processes">Which processes were counted, in words.</param>
/// <param name="ProcessIds">Their ids.</param>
/// <param name="WindowSeconds">How long perf counted; the window holds the whole wrk run.</param>
/// <param name="Requests">Requests wrk completed in that run: every count is divided by it.</param>
/// <param name="RequestsPerSecond">wrk's rate in that run (lower than the rounds': tracing syscalls slows them).</param>
/// <param name="Counts">What perf counted over the window; empty when perf could not be used.</param>
/// <param name="Times">CPU time and context switches from /proc over the wrk run.</param>
internal sealed record PerfRun(string Door, string Processes, IReadOnlyList<int> ProcessIds, int WindowSeconds, long Requests, double RequestsPerSecond, IReadOnlyList<PerfCount> Counts, ProcessTimes Times)
{
    /// <summary>A count divided by the requests; null when it was not counted.</summary>
    public double? PerRequest(string counter) =>
        Counts.FirstOrDefault(c => c.Name == counter)?.Value is { } value && Requests > 0 ? value / Requests : null;

    /// <summary>CPU time per request in microseconds, from the task-clock (milliseconds).</summary>
    public double? CpuUsPerRequest => PerRequest("CPU time") * 1_000;

    /// <summary>Syscalls other than those counted one by one (futex, sendto, writev, recvfrom, epoll_wait, epoll_ctl).</summary>
    public double? OtherSyscallsPerRequest =>
        PerRequest("syscalls") - PerRequest("futex") - PerRequest("sendto") - PerRequest("writev") - PerRequest("recvfrom") - PerRequest("epoll_wait") - PerRequest("epoll_ctl");

    public double UserUsPerRequest => Times.UserSeconds * 1_000_000 / Requests;

    public double SystemUsPerRequest => Times.SystemSeconds * 1_000_000 / Requests;

    public double VoluntaryPerRequest => Times.Voluntary / (double)Requests;

    public double InvoluntaryPerRequest => Times.Involuntary / (double)Requests;
}

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

    public CompareFigures? Compare { get; set; }

    public ReplicaFigures? Replicas { get; set; }

    public StartupFigures? Startup { get; set; }

    public IReadOnlyList<TargetVerdict> Targets { get; set; } = [];

    public List<string> Notes { get; } = [];
}
