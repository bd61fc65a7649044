using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Corral.LoadBench;

/// <summary>Writes a run's results as JSON and Markdown (dated files and latest.md).</summary>
internal static class ReportWriter
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes the files and returns the path of the Markdown one.</summary>
    public static string Write(BenchReport report, string directory)
    {
        Directory.CreateDirectory(directory);
        var stamp = report.StartedAt.ToLocalTime().ToString("yyyy-MM-dd-HHmm", CultureInfo.InvariantCulture);
        var markdown = Markdown(report, stamp);
        File.WriteAllText(Path.Combine(directory, stamp + ".json"), JsonSerializer.Serialize(report, s_json) + "\n");
        var path = Path.Combine(directory, stamp + ".md");
        File.WriteAllText(path, markdown);
        File.WriteAllText(Path.Combine(directory, "latest.md"), markdown);
        return path;
    }

    private static string Markdown(BenchReport report, string stamp)
    {
        var md = new StringBuilder();
        void Line(FormattableString text) => md.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');

        Line($"# Corral load benchmark, {report.StartedAt.ToLocalTime():yyyy-MM-dd HH:mm}");
        Line($"");
        Line($"Raw figures: [{stamp}.json]({stamp}.json). Produced by `{report.Command}` (see [bench/README.md](../README.md)); took {report.DurationMinutes:0.0} minutes.");
        Line($"");
        Line($"## Machine");
        Line($"");
        var m = report.Machine;
        Line($"| | |");
        Line($"|---|---|");
        Line($"| CPU | {m.CpuModel}, {m.Processors} logical processors (`nproc`) |");
        Line($"| Memory | {m.Memory} |");
        Line($"| OS | {m.OperatingSystem}, kernel {m.Kernel} |");
        Line($"| .NET | {m.DotnetRuntime} (Corral published framework-dependent, Release, run as `corral serve`) |");
        Line($"| nginx | {m.Nginx} |");
        Line($"| wrk | {m.Wrk} |");
        Line($"| Corral | commit {m.CorralCommit} |");
        Line($"| Load average | {m.LoadAverageAtStart} at start, {m.LoadAverageAtEnd} at end |");
        Line($"| Open files limit | {m.OpenFilesLimit} |");
        Line($"");
        Line($"## Method");
        Line($"");
        md.Append(report.Method).Append('\n');
        Line($"");

        foreach (var table in report.Throughput)
        {
            Line($"## {table.Title}");
            Line($"");
            Line($"`{table.Request}`");
            Line($"");
            if (table.Note is { } note)
            {
                Line($"{note}");
                Line($"");
            }

            if (table.ChunksPerResponse is { } chunks)
            {
                Line($"{chunks} SSE chunks per answer (`data:` frames before `[DONE]`); chunks/s = req/s × {chunks}.");
                Line($"");
                Line($"| c | Corral req/s | chunks/s | p50 | p99 | non-2xx | socket errors |");
                Line($"|--:|--:|--:|--:|--:|--:|--:|");
                foreach (var row in table.Rows)
                {
                    var c = row.Corral;
                    Line($"| {row.Concurrency} | {Format.Rate(c.RequestsPerSecond)} | {Format.Rate(row.ChunksPerSecond)} | {Format.Us(c.P50Us)} | {Format.Us(c.P99Us)} | {c.Non2xx} | {c.SocketErrors} |");
                }
            }
            else
            {
                Line($"| c | direct req/s | nginx req/s | Corral req/s | Corral/nginx | direct p50 | nginx p50 | Corral p50 | direct p99 | nginx p99 | Corral p99 | nginx adds (p50) | Corral adds (p50) | non-2xx d/n/c | socket errors d/n/c |");
                Line($"|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
                foreach (var row in table.Rows)
                {
                    var (d, n, c) = (row.Direct!, row.Nginx!, row.Corral);
                    Line($"| {row.Concurrency} | {Format.Rate(d.RequestsPerSecond)} | {Format.Rate(n.RequestsPerSecond)} | {Format.Rate(c.RequestsPerSecond)} | **{Format.Ratio(row.CorralToNginx)}** | {Format.Us(d.P50Us)} | {Format.Us(n.P50Us)} | {Format.Us(c.P50Us)} | {Format.Us(d.P99Us)} | {Format.Us(n.P99Us)} | {Format.Us(c.P99Us)} | {Format.SignedUs(row.NginxAddedP50Us)} | **{Format.SignedUs(row.CorralAddedP50Us)}** | {d.Non2xx}/{n.Non2xx}/{c.Non2xx} | {d.SocketErrors}/{n.SocketErrors}/{c.SocketErrors} |");
                }
            }

            Line($"");
        }

        if (report.CorralRssAfterThroughputBytes is { } rss)
        {
            Line($"Corral's resident memory after the side-by-side runs: {Format.Megabytes(rss)} (peak {Format.Megabytes(report.CorralPeakRssDuringThroughputBytes ?? 0)}).");
            Line($"");
        }

        if (report.StreamTiming is { } t)
        {
            Line($"## Streaming at model speed");
            Line($"");
            Line($"A simulated Ollama (`Corral.Simulator`, in the benchmark's process) generating {t.TokensPerSecond:0} tokens/s, `POST /api/generate` with `num_predict` {t.TokensPerAnswer} ({t.LinesPerAnswer} lines), {t.Requests} requests through each door in turn, read by a .NET `HttpClient` (`ResponseHeadersRead`, 4 KiB reads) that timestamps each line when the read that completes it returns. nginx (the bearer proxy, here in front of the simulator) is a reference for what one more process hop costs on this machine.");
            Line($"");
            Line($"| | direct | nginx | Corral | nginx adds | Corral adds |");
            Line($"|---|--:|--:|--:|--:|--:|");
            var (d, n, c) = (t.Direct, t.Nginx, t.Corral);
            Line($"| time to first line (median) | {Format.Us(d.FirstLineMedianUs)} | {Format.Us(n.FirstLineMedianUs)} | {Format.Us(c.FirstLineMedianUs)} | {Format.SignedUs(t.NginxTtftAddedUs)} | **{Format.SignedUs(t.TtftAddedUs)}** |");
            Line($"| gap between token lines, median | {Format.Us(d.GapMedianUs)} | {Format.Us(n.GapMedianUs)} | {Format.Us(c.GapMedianUs)} | {Format.SignedUs(n.GapMedianUs - d.GapMedianUs)} | {Format.SignedUs(c.GapMedianUs - d.GapMedianUs)} |");
            Line($"| gap between token lines, p99 | {Format.Us(d.GapP99Us)} | {Format.Us(n.GapP99Us)} | {Format.Us(c.GapP99Us)} | {Format.SignedUs(n.GapP99Us - d.GapP99Us)} | {Format.SignedUs(c.GapP99Us - d.GapP99Us)} |");
            Line($"| token lines arriving < ¼ interval after the previous one | {d.BunchedLines} | {n.BunchedLines} | {c.BunchedLines} | | |");
            Line($"| reads that delivered 2+ token lines | {d.MultiLineReads} | {n.MultiLineReads} | {c.MultiLineReads} | | |");
            Line($"");
        }

        if (report.Memory is { } mem)
        {
            Line($"## Memory");
            Line($"");
            Line($"Corral in front of a simulated Ollama at {mem.TokensPerSecond:0} tokens/s; {mem.Streams:#,0} streamed `POST /api/generate` (`num_predict` {mem.TokensPerStream}, about {mem.TokensPerStream / mem.TokensPerSecond:0} s each) started at once from one `HttpClient`. RSS is VmRSS of the Corral process (`/proc/PID/status`).");
            Line($"");
            Line($"| | |");
            Line($"|---|--:|");
            Line($"| RSS idle, after warm-up | **{Format.Megabytes(mem.IdleRssBytes)}** |");
            Line($"| time until every stream had its first line | {mem.SecondsToOpenAll:0.0} s |");
            Line($"| streams open when sampled | {mem.StreamsOpenWhenSampled:#,0} |");
            Line($"| RSS with them open (highest of 5 samples) | **{Format.Megabytes(mem.OpenRssBytes)}** |");
            Line($"| peak RSS (VmHWM) | {Format.Megabytes(mem.PeakRssBytes)} |");
            Line($"| completed with the final `done:true` line | {mem.Completed:#,0} |");
            Line($"| dropped | {mem.Dropped} |");
            Line($"| RSS 2 s after the streams ended | {Format.Megabytes(mem.AfterRssBytes)} |");
            Line($"| open files limit of the benchmark and Corral | {mem.OpenFilesLimit} |");
            foreach (var error in mem.Errors)
            {
                Line($"| error | {error} |");
            }

            Line($"");
        }

        if (report.Fleet is { } f)
        {
            Line($"## Fleet catalog");
            Line($"");
            Line($"{f.Backends} simulated Ollama servers in the benchmark's process, {f.ModelsPerBackend} models each ({f.SharedModels} on every server, {f.ModelsPerBackend - f.SharedModels} each server's own), passed to Corral with `--config`. Cold: the first `GET /api/tags`, sent as soon as `/healthz` answered (Corral starts building the catalog at start-up). Warm: {f.WarmRequests} requests one after the other on a kept-alive connection, timed by the client until the whole body was read.");
            Line($"");
            Line($"| | |");
            Line($"|---|--:|");
            Line($"| merged models in the answer | {f.MergedModels:#,0} ({f.ResponseBytes / 1024.0:#,0} KiB) |");
            Line($"| process start to `/healthz` | {Format.Ms(f.StartToHealthyMs)} |");
            Line($"| cold `/api/tags` | {Format.Ms(f.ColdTagsMs)} |");
            Line($"| warm `/api/tags`, median | **{Format.Ms(f.WarmMedianMs)}** |");
            Line($"| warm `/api/tags`, p99 | {Format.Ms(f.WarmP99Ms)} |");
            Line($"| Corral RSS afterwards | {Format.Megabytes(f.CorralRssBytes)} |");
            Line($"");
        }

        if (report.Usage is { } u)
        {
            Line($"## Usage queries");
            Line($"");
            Line($"{u.Records:#,0} synthetic usage records (40 keys, 30 users, 24 models, 4 backends, 97% status 200) spread over the last {u.Days} days, written into a fresh data folder through Corral's own usage write path (10,000 records a transaction, rollups kept up to date), then the published Corral started on it. Times are the client's, to the last byte of the answer; the database file is in the OS page cache (it was just written).");
            Line($"");
            Line($"| | |");
            Line($"|---|--:|");
            Line($"| making up and writing the records | {u.CreateSeconds:0.0} s ({u.CreateCpuSeconds:0.0} s of CPU) |");
            Line($"| CPU of the writes alone | {u.WriteCpuSeconds:0.0} s, **{u.WriteCpuSeconds * 1e6 / u.Records:0.00} µs a record** |");
            Line($"| database | {Format.Megabytes(u.DatabaseBytes)}, {u.RollupRows:#,0} hourly rollup rows |");
            Line($"| `groupBy=model&from=<{u.Days} days ago>`, first after start | {Format.Ms(u.ColdQueryMs)} |");
            Line($"| the same, warm, median of 5 (max) | **{Format.Ms(u.WarmMedianMs)}** ({Format.Ms(u.WarmMaxMs)}) |");
            foreach (var other in u.OtherQueries)
            {
                Line($"| `{other.Query}`, warm | {Format.Ms(other.Milliseconds)} |");
            }

            Line($"| Corral RSS afterwards | {Format.Megabytes(u.CorralRssBytes)} |");
            Line($"");
        }

        if (report.Compare is { } compare)
        {
            CompareSection(compare, Line);
        }

        if (report.Replicas is { } replicas)
        {
            Line($"## Replicas: POST /api/chat, not streamed, c=64");
            Line($"");
            Line($"| door | what | req/s | p50 | p99 | non-2xx | socket errors | of alone |");
            Line($"|---|---|--:|--:|--:|--:|--:|--:|");
            var alone = replicas.Doors[0].Throughput.RequestsPerSecond;
            foreach (var door in replicas.Doors)
            {
                var figures = door.Throughput;
                Line($"| {door.Name} | {door.Description} | **{Format.Rate(figures.RequestsPerSecond)}** | {Format.Us(figures.P50Us)} | {Format.Us(figures.P99Us)} | {figures.Non2xx} | {figures.SocketErrors} | {Format.Ratio(figures.RequestsPerSecond / alone)} |");
            }

            Line($"");
        }

        if (report.Startup is { } startup)
        {
            Line($"## Startup: the first {startup.WindowSeconds:0} s after start, ReadyToRun and not");
            Line($"");
            Line($"Non-streamed `POST /api/chat` from {startup.Concurrency} clients from the moment `/healthz` answers; medians over {startup.Builds[0].Runs.Count} fresh start(s) each.");
            Line($"");
            Line($"| build | what | corral.dll | start to /healthz | first chat | requests in the first {startup.WindowSeconds:0} s | errors |");
            Line($"|---|---|--:|--:|--:|--:|--:|");
            foreach (var build in startup.Builds)
            {
                Line($"| {build.Name} | {build.Description} | {Format.Megabytes(build.AssemblyBytes)} | {Format.Ms(build.HealthyMs)} | **{Format.Ms(build.FirstRequestMs)}** | **{Format.Rate(build.Requests)}** | {build.Errors} |");
            }

            Line($"");
            Line($"ReadyToRun over JIT: requests in the window **{Format.Ratio(startup.RequestsRatio)}**, first chat latency {Format.Ratio(startup.FirstRequestRatio)}, start to /healthz {Format.Ratio(startup.HealthyRatio)}.");
            Line($"");
        }

        Line($"## Targets (issue #4)");
        Line($"");
        Line($"| target | measured | verdict |");
        Line($"|---|---|---|");
        foreach (var target in report.Targets)
        {
            Line($"| {target.Target} | {target.Measured} | {target.Verdict} |");
        }

        if (report.Notes.Count > 0)
        {
            Line($"");
            Line($"## Notes");
            Line($"");
            foreach (var note in report.Notes)
            {
                Line($"- {note}");
            }
        }

        return md.ToString();
    }

    private static void CompareSection(CompareFigures compare, Action<FormattableString> Line)
    {
        Line($"## Comparison: POST /api/chat, not streamed, through each front door");
        Line($"");
        Line($"`POST /api/chat {FakeAnswers.ChatRequest}`. Medians over {compare.Doors[0].Throughput.Runs.Count} round(s); load average as each round began: {string.Join("; ", compare.LoadAverages)}.");
        Line($"");
        Line($"| door | what | c=64 req/s | c=64 p50 | c=64 p99 | c=1 p50 | c=1 p99 | non-2xx | socket errors | RSS after |");
        Line($"|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var door in compare.Doors)
        {
            var (t, l) = (door.Throughput, door.Latency);
            var rss = door.RssBytes is { } bytes ? Format.Megabytes(bytes) : "—";
            Line($"| {door.Name} | {door.Description} | **{Format.Rate(t.RequestsPerSecond)}** | {Format.Us(t.P50Us)} | {Format.Us(t.P99Us)} | **{Format.Us(l.P50Us)}** | {Format.Us(l.P99Us)} | {t.Non2xx + l.Non2xx} | {t.SocketErrors + l.SocketErrors} | {rss} |");
        }

        Line($"");
        Line($"| ratio | c=64 req/s (of the medians) | c=64 req/s, each round | c=1 p50 difference |");
        Line($"|---|--:|--:|--:|");
        foreach (var ratio in compare.Ratios)
        {
            Line($"| {ratio.Name} | **{Format.Ratio(ratio.Throughput)}** | {string.Join(", ", ratio.PerRound.Select(r => Format.Ratio(r)))} | {Format.SignedUs(ratio.P50DifferenceUs)} |");
        }

        Line($"");
        if (compare.PerfProblem is { } problem)
        {
            Line($"perf: {problem}");
            Line($"");
        }

        if (compare.Perf.Count > 0)
        {
            Line($"### Per request, from perf stat (one extra c=64 run per door)");
            Line($"");
            var filtered = string.Join(" ", PerfStat.Counters.Where(c => c.Filter is not null).Select(c => $"-e {c.Event} --filter '{c.Filter}'"));
            Line($"`perf stat -x, -e {string.Join(',', PerfStat.Counters.Where(c => c.Filter is null).Select(c => c.Event))} {filtered} -p <pids> -- sleep <s>`, each count divided by the requests wrk completed in that run. \"other syscalls\" is the total less the ones counted one by one. User and system CPU time (sampled at the clock tick over the whole run) and the context switches split into voluntary and involuntary come from /proc, read right before and after the wrk run.");
            Line($"");
            PerfTable(compare.Perf, "the door's processes", Line);
            if (compare.BackendPerf.Count > 0)
            {
                Line($"The fake backend (nginx, one worker) during the same runs: what each door asked of it per request.");
                Line($"");
                PerfTable(compare.BackendPerf, "the fake backend", Line);
            }
        }
    }

    /// <summary>Counters as rows, doors as columns: with four doors the numbers to compare stand side by side.</summary>
    private static void PerfTable(IReadOnlyList<PerfRun> runs, string counted, Action<FormattableString> Line)
    {
        string Row(string label, Func<PerfRun, string> cell) => $"| {label} | {string.Join(" | ", runs.Select(cell))} |";
        Line($"| per request, {counted} | {string.Join(" | ", runs.Select(r => r.Door))} |");
        Line($"|---|{string.Concat(runs.Select(_ => "--:|"))}");
        Line($"{Row("processes counted", r => r.Processes)}");
        Line($"{Row("requests in the run (req/s)", r => $"{Format.Rate(r.Requests)} ({Format.Rate(r.RequestsPerSecond)})")}");
        Line($"{Row("**CPU µs** (`task-clock`)", r => $"**{Format.PerRequest(r.CpuUsPerRequest)}**")}");
        Line($"{Row("user CPU µs (/proc utime)", r => Format.PerRequest(r.UserUsPerRequest))}");
        Line($"{Row("system CPU µs (/proc stime)", r => Format.PerRequest(r.SystemUsPerRequest))}");
        Line($"{Row("voluntary context switches (/proc: blocked)", r => Format.PerRequest(r.VoluntaryPerRequest))}");
        Line($"{Row("involuntary context switches (/proc: preempted)", r => Format.PerRequest(r.InvoluntaryPerRequest))}");
        foreach (var counter in PerfStat.Counters.Skip(1))
        {
            Line($"{Row(counter.Label, r => Format.PerRequest(r.PerRequest(counter.Name)))}");
        }

        Line($"{Row("other syscalls", r => Format.PerRequest(r.OtherSyscallsPerRequest))}");
        Line($"");
    }
}
