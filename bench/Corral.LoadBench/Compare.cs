using System.Globalization;
using System.Net;
using System.Text;

namespace Corral.LoadBench;

/// <summary>
/// The comparison mode (<c>--only compare</c>): non-streamed <c>POST /api/chat</c> through the nginx bearer proxy,
/// this Corral with its defaults, the same Corral process through a key with an allow-list and every limit set
/// (high enough never to refuse), the same Corral with usage records, metrics and the request log off, and
/// optionally another published Corral (<c>--baseline</c>), one after the other in every round (A B C D A B C D …),
/// at c=64 for throughput and c=1 for latency; medians over rounds. With <c>--perf</c>, one more c=64 run per door
/// under <c>perf stat</c>: what the door's processes did per request, which is less noisy than requests/s on a
/// shared machine.
/// </summary>
internal static class Compare
{
    private const int Throughput = 64;
    private const int Latency = 1;

    // Each pair: the first door's throughput as a share of the second's.
    private static readonly (string Numerator, string Denominator)[] s_ratios =
        [("corral", "nginx"), ("corral-off", "nginx"), ("baseline", "nginx"), ("corral", "corral-off"), ("corral", "baseline"), ("corral-limited", "corral"), ("corral-messages", "corral")];

    // The limited door's key: an allow-list whose match is its last pattern, and every limit far above what a run uses.
    private const string LimitedKey = """
        {"name":"bench-limited","role":"user","models":["qwen*","mistral*","llama3*"],"requestsPerMinute":1000000000,
         "tokensPerMinute":1000000000000,"tokensPerDay":1000000000000,"maxConcurrency":100000}
        """;

    public static async Task<CompareFigures> RunAsync(BenchOptions options, string corralExecutable, string work, string key, BenchReport report)
    {
        var backendPort = Loopback.FreePort();
        var proxyPort = Loopback.FreePort();
        // The fake backend's second server (streamed chat for /v1) is not used here.
        using var fake = Nginx.StartFakeBackend(work, backendPort, Loopback.FreePort());
        using var proxy = Nginx.StartBearerProxy(work, proxyPort, backendPort, key);
        var direct = Url(backendPort);
        await Loopback.WaitUntilServingAsync(direct + "/api/version", fake, TimeSpan.FromSeconds(10));
        await Loopback.WaitUntilServingAsync(Url(proxyPort) + "/api/version", proxy, TimeSpan.FromSeconds(10), key);

        // Every Corral writes its output to a file (its request log is one JSON line per request); a baseline build
        // may predate the observability flags, so it gets only the ones every Corral knows (CorralProcess's own).
        string[] backend = ["--backend", direct];
        using var corral = await CorralProcess.StartAsync(corralExecutable, "compare-corral", work, key, backend, outputToFile: true);
        using var corralOff = await CorralProcess.StartAsync(corralExecutable, "compare-corral-off", work, key,
            [.. backend, "--usage", "off", "--metrics", "off", "--request-log", "off"], outputToFile: true);
        using var baseline = options.BaselinePath is { } baselinePath
            ? await CorralProcess.StartAsync(baselinePath, "compare-baseline", work, key, backend, outputToFile: true)
            : null;

        var version = CorralProcess.Version(corralExecutable);
        var script = Wrk.WriteScript(work, "compare-chat", "POST", FakeAnswers.ChatRequest, key);
        var limitedKey = await CreateKeyAsync(Url(corral), key, LimitedKey);
        var limitedScript = Wrk.WriteScript(work, "compare-chat-limited", "POST", FakeAnswers.ChatRequest, limitedKey);
        var messagesScript = Wrk.WriteScript(work, "compare-messages", "POST", FakeAnswers.MessagesRequest, key);
        List<Door> doors =
        [
            new("nginx", Url(proxyPort), "the nginx bearer proxy (2 workers)", proxy, null, key, script),
            new("corral", Url(corral), $"this build ({version}) with its defaults: usage records, metrics and the JSON request log on, its output to a file", null, corral, key, script),
            new("corral-limited", Url(corral), "the same Corral process, through a user key with a 3-pattern allow-list and requestsPerMinute, tokensPerMinute, tokensPerDay and maxConcurrency set far above what a run uses", null, corral, limitedKey, limitedScript),
            new("corral-off", Url(corralOff), $"the same executable with `--usage off --metrics off --request-log off`", null, corralOff, key, script),
            new("corral-messages", Url(corral), "the same Corral process, `POST /v1/messages` (Anthropic's Messages, passed through to the backend's own route) in place of `/api/chat`", null, corral, key, messagesScript)
            {
                Path = "/v1/messages",
                Request = FakeAnswers.MessagesRequest,
                Expect = "\"type\":\"message\"",
            },
        ];
        if (baseline is not null)
        {
            doors.Add(new("baseline", Url(baseline), $"`{options.BaselinePath}` ({CorralProcess.Version(options.BaselinePath!)}) with its own defaults, its output to a file", null, baseline, key, script));
        }

        await VerifyAsync(doors);
        var served = doors.ToDictionary(d => d.Name, _ => 0L, StringComparer.Ordinal);
        async Task<WrkResult> DriveAsync(Door door, int concurrency, int seconds)
        {
            var result = await Wrk.RunAsync(door.ChatUrl, door.Script, concurrency, seconds);
            door.Corral?.SweepOutput();
            served[door.Name] += result.Requests;
            return result;
        }

        // Warm-up: JIT, connection pools, nginx's upstream keep-alive connections. Not recorded.
        Console.WriteLine("Warming up ...");
        foreach (var door in doors)
        {
            // One answer was checked; a door that fails under load would be measured at the speed of its errors.
            var warm = await DriveAsync(door, 16, options.Quick ? 1 : 2);
            if (warm.Non2xx + warm.SocketErrors > 0)
            {
                throw new BenchmarkException($"{door.Name} gave {warm.Non2xx} non-2xx answers and {warm.SocketErrors} socket errors to {warm.Requests} requests while warming up");
            }
        }

        // Then each Corral until its tiered JIT has settled (see Settling), one after the other.
        var curves = new Dictionary<string, List<WrkResult>>(StringComparer.Ordinal);
        foreach (var door in doors.Where(d => d.Corral is not null))
        {
            curves[door.Name] = await Settling.RunAsync(door.ChatUrl, door.Script, options, door.Corral!.SweepOutput);
            served[door.Name] += curves[door.Name].Sum(r => r.Requests);
            Console.WriteLine($"Settled {door.Name}: {Settling.Describe(curves[door.Name])} req/s");
        }

        report.Notes.Add($"Comparison: before the rounds, each Corral door was driven with its own request (`POST /api/chat`, corral-messages `POST /v1/messages`) {Settling.Method(options)}, because its tiered JIT needs tens of seconds of saturating load to recompile the hot path: "
            + string.Join("; ", curves.Select(c => $"{c.Key} {Settling.Describe(c.Value)} req/s")) + ".");

        var runs = new Dictionary<(string Door, int Concurrency), List<WrkResult>>();
        var loadAverages = new List<string>();
        for (var round = 1; round <= options.Rounds; round++)
        {
            loadAverages.Add(MachineInfo.LoadAverage());
            foreach (var concurrency in new[] { Throughput, Latency })
            {
                var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"compare round {round}/{options.Rounds} c={concurrency,-3}");
                foreach (var door in doors)
                {
                    var result = await DriveAsync(door, concurrency, options.DurationSeconds);
                    if (!runs.TryGetValue((door.Name, concurrency), out var list))
                    {
                        runs[(door.Name, concurrency)] = list = [];
                    }

                    list.Add(result);
                    line.Append(CultureInfo.InvariantCulture, $"  {door.Name} {result.RequestsPerSecond,7:0} req/s p50 {Format.Us(result.P50Us),8}");
                    if (result.Non2xx + result.SocketErrors > 0)
                    {
                        line.Append(CultureInfo.InvariantCulture, $" (non-2xx {result.Non2xx}, socket errors {result.SocketErrors})");
                    }
                }

                Console.WriteLine(line);
            }
        }

        var (perf, backendPerf, perfProblem) = options.Perf
            ? await PerfRunsAsync(doors, fake, served, options, work)
            : ([], [], null);
        if (perfProblem is not null)
        {
            // The comparison's section says it under its tables.
            Console.WriteLine($"perf: {perfProblem}");
        }

        var figures = doors.Select(d => new CompareDoor(
            d.Name,
            d.Description,
            TargetFigures.Of(runs[(d.Name, Throughput)])!,
            TargetFigures.Of(runs[(d.Name, Latency)])!,
            curves.TryGetValue(d.Name, out var curve) ? [.. curve.Select(r => r.RequestsPerSecond)] : [],
            d.Corral?.Memory().Rss,
            d.Corral?.RequestLogLines,
            served[d.Name])).ToArray();
        // A process serving several doors (corral and corral-limited) wrote one output for all of them.
        foreach (var process in doors.Where(d => d.Corral is not null).GroupBy(d => d.Corral))
        {
            NoteOutput(process.First(), process.Sum(d => served[d.Name]), report);
        }

        return new CompareFigures(figures, Ratios(figures), loadAverages, perf, backendPerf, perfProblem);
    }

    /// <summary>The method paragraph of the results, for a run with the comparison.</summary>
    public static string Method(BenchOptions options) => string.Create(CultureInfo.InvariantCulture, $"""
        Comparison (`--only compare`): non-streamed `POST /api/chat` through each front door in turn (nginx, corral,
        corral-limited, corral-off{(options.BaselinePath is null ? string.Empty : ", baseline")}, corral-messages), all in front of the same fake backend (corral-limited is the corral process
        through a key with an allow-list and every limit set, far above what a run uses; corral-messages the corral process on
        `POST /v1/messages`, whose same answer in Anthropic's shape the fake backend gives on its own `/v1/messages`): every round runs c={Throughput} and
        then c={Latency} through every door one after the other, {options.Rounds} round(s) of {options.DurationSeconds} s runs, so that drift in the
        machine's load spreads over all doors; figures are medians over rounds. Each Corral writes its standard output
        (the request log, one JSON line per request) to a file in the work folder, read only between runs.{(options.Perf ? $" With `--perf`, one more c={Throughput} run per door, not in the medians, under `perf stat` attached to the door's processes (and a second one on the fake backend's), with their CPU time and context switches also read from /proc right before and after it; each count is divided by the requests wrk completed in that run. perf's window opens before wrk connects and closes after it ended, so it holds the whole run; the idle second on either side adds little. Counting syscall tracepoints slows every syscall of the counted processes, so those runs' requests/s are lower than the rounds'." : string.Empty)}
        """);

    private static string Url(int port) => $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";

    private static string Url(CorralProcess corral) => corral.BaseAddress.ToString().TrimEnd('/');

    /// <summary>Every door answers the chat request and refuses a request without the key before anything is measured.</summary>
    private static async Task VerifyAsync(IEnumerable<Door> doors)
    {
        using var anonymous = Loopback.Client();
        foreach (var door in doors)
        {
            using var client = Loopback.Client(door.Key);
            await SideBySide.ExpectAsync(client, door.Name, HttpMethod.Post, door.ChatUrl, door.Request, door.Expect, 1);
            using var refused = await anonymous.GetAsync(new Uri(door.Url + "/api/tags"));
            if (refused.StatusCode != HttpStatusCode.Unauthorized)
            {
                throw new BenchmarkException($"{door.Name} answered {(int)refused.StatusCode} without a key, not 401: authentication is not on");
            }
        }
    }

    /// <summary>
    /// One more c=64 run per door with its processes counted, and the fake backend's apart: /proc always, perf stat
    /// when it can be used (a refusal is reported, not fatal).
    /// </summary>
    private static async Task<(List<PerfRun> Doors, List<PerfRun> Backend, string? Problem)> PerfRunsAsync(
        IReadOnlyList<Door> doors, ChildProcess fake, Dictionary<string, long> served, BenchOptions options, string work)
    {
        List<PerfRun> doorRuns = [];
        List<PerfRun> backendRuns = [];
        var problem = await PerfStat.ProblemAsync(work) is { } reason
            ? "perf could not be used, so only the figures from /proc are given: " + reason
            : null;

        // perf attaches before wrk connects and counts until after wrk closed its connections; /proc is read right
        // before and after the run.
        var window = options.DurationSeconds + 2;
        foreach (var door in doors)
        {
            var doorPids = door.ProcessIds();
            var backendPids = ProcessTree.WithDescendants(fake.Id);
            using var doorPerf = problem is null ? PerfStat.Start(door.Name, doorPids, window, work) : null;
            using var backendPerf = problem is null ? PerfStat.Start(door.Name + "-backend", backendPids, window, work) : null;
            if (problem is null)
            {
                await Task.Delay(700);
            }

            var (doorBefore, backendBefore) = (ProcessTimes.Read(doorPids), ProcessTimes.Read(backendPids));
            var result = await Wrk.RunAsync(door.ChatUrl, door.Script, Throughput, options.DurationSeconds);
            var (doorTimes, backendTimes) = (ProcessTimes.Read(doorPids) - doorBefore, ProcessTimes.Read(backendPids) - backendBefore);
            door.Corral?.SweepOutput();
            served[door.Name] += result.Requests;

            IReadOnlyList<PerfCount> doorCounts = [], backendCounts = [];
            try
            {
                doorCounts = doorPerf is null ? [] : await doorPerf.WaitAsync();
                backendCounts = backendPerf is null ? [] : await backendPerf.WaitAsync();
            }
            catch (BenchmarkException e)
            {
                problem = $"perf stat failed during the run through {door.Name}, so from there on only the figures from /proc are given: {e.Message}";
            }

            var run = new PerfRun(door.Name, door.Processes(doorPids), doorPids, window, result.Requests, result.RequestsPerSecond, doorCounts, doorTimes);
            doorRuns.Add(run);
            backendRuns.Add(new PerfRun(door.Name, $"fake backend: nginx master and {backendPids.Count - 1} worker(s)", backendPids, window, result.Requests,
                result.RequestsPerSecond, backendCounts, backendTimes));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"counted {door.Name}: {result.RequestsPerSecond:0} req/s; per request {run.UserUsPerRequest:0.0} µs user + {run.SystemUsPerRequest:0.0} µs system CPU, {run.VoluntaryPerRequest:0.00} voluntary + {run.InvoluntaryPerRequest:0.00} involuntary context switches, {Format.PerRequest(run.PerRequest("syscalls"))} syscalls, {Format.PerRequest(run.PerRequest("futex"))} futex"));
        }

        return (doorRuns, backendRuns, problem);
    }

    private static CompareRatio[] Ratios(IReadOnlyList<CompareDoor> doors)
    {
        var byName = doors.ToDictionary(d => d.Name, StringComparer.Ordinal);
        return [.. s_ratios
            .Where(pair => byName.ContainsKey(pair.Numerator) && byName.ContainsKey(pair.Denominator))
            .Select(pair =>
            {
                var (a, b) = (byName[pair.Numerator], byName[pair.Denominator]);
                var perRound = a.Throughput.Runs.Zip(b.Throughput.Runs, (x, y) => x.RequestsPerSecond / y.RequestsPerSecond).ToArray();
                return new CompareRatio(pair.Numerator, pair.Denominator, a.Throughput.RequestsPerSecond / b.Throughput.RequestsPerSecond, perRound, a.Latency.P50Us - b.Latency.P50Us);
            })];
    }

    /// <summary>Warnings a Corral logged, and whether its request log wrote what its flags say it should.</summary>
    private static void NoteOutput(Door door, long served, BenchReport report)
    {
        var (count, last) = door.Corral!.Problems();
        if (count > 0)
        {
            report.Notes.Add($"Comparison: {door.Name} logged {count} warnings or errors, the last: {last}");
        }

        var lines = door.Corral.RequestLogLines ?? 0;
        var expected = door.Name == "corral" ? "one per request expected, the request log being on by default when standard output is not a terminal"
            : door.Name == "corral-off" ? "none expected with `--request-log off`"
            : "a build that may or may not have a request log";
        report.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"Comparison: {door.Name} wrote {lines:#,0} request log lines (JSON) for the {served:#,0} requests wrk completed through it, {(served > 0 ? lines / (double)served : 0):0.00} per request ({expected})."));
    }

    /// <summary>Creates a key through a Corral's admin API and returns its secret.</summary>
    private static async Task<string> CreateKeyAsync(string url, string adminKey, string body)
    {
        using var client = Loopback.Client(adminKey);
        using var response = await client.PostAsync(new Uri(url + "/admin/api/keys"), new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new BenchmarkException($"could not create the limited key: {(int)response.StatusCode} {text}");
        }

        using var document = System.Text.Json.JsonDocument.Parse(text);
        return document.RootElement.GetProperty("key").GetString()!;
    }

    /// <summary>A front door: where wrk sends requests with which key (its wrk script), and the processes that serve them (for perf).</summary>
    private sealed record Door(string Name, string Url, string Description, ChildProcess? Nginx, CorralProcess? Corral, string Key, string Script)
    {
        /// <summary>The route driven: <c>/api/chat</c>, or another surface's route with the same answer.</summary>
        public string Path { get; init; } = "/api/chat";

        public string Request { get; init; } = FakeAnswers.ChatRequest;

        /// <summary>What the one answer checked before the runs must hold.</summary>
        public string Expect { get; init; } = "\"done\":true";

        public string ChatUrl => Url + Path;

        public IReadOnlyList<int> ProcessIds() => Corral is not null ? [Corral.ProcessId] : ProcessTree.WithDescendants(Nginx!.Id);

        public string Processes(IReadOnlyList<int> pids) => Corral is not null
            ? "corral: its one process, every thread"
            : $"nginx master and {pids.Count - 1} worker(s)";
    }
}
