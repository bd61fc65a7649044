using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Corral.LoadBench;

/// <summary>The whole run: tools checked, Corral published, each scenario in turn, results written.</summary>
internal static class LoadBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        if (options is null)
        {
            return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
        }

        // Whatever ends the run, nothing it started outlives it, and its temporary folder goes too.
        var work = Directory.CreateTempSubdirectory("corral-loadbench-").FullName;
        Console.CancelKeyPress += (_, _) => CleanUp(work);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => CleanUp(work));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => ChildProcess.KillAll();
        try
        {
            return await RunAsync(options, work, string.Join(' ', ["dotnet run -c Release --project bench/Corral.LoadBench", .. args.Length > 0 ? ["--", .. args] : Array.Empty<string>()]));
        }
        catch (BenchmarkException e)
        {
            await Console.Error.WriteLineAsync("Benchmark failed: " + e.Message);
            return 1;
        }
        finally
        {
            CleanUp(work);
        }
    }

    private static void CleanUp(string work)
    {
        ChildProcess.KillAll();
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Already gone, or a process still closing a file in it; the folder is in /tmp.
        }
    }

    private static async Task<int> RunAsync(BenchOptions options, string work, string command)
    {
        // nginx and wrk are the other front door and the load of the side-by-side runs; the other scenarios do without.
        var tools = options.Scenarios.Contains("throughput") ? new[] { "nginx", "wrk" } : options.Scenarios.Contains("speed") ? ["nginx"] : [];
        foreach (var tool in tools)
        {
            if (!Tools.Exists(tool))
            {
                throw new BenchmarkException($"'{tool}' is not installed or not on PATH. On Debian/Ubuntu: sudo apt-get install nginx-light wrk");
            }
        }

        var root = RepositoryRoot();
        var clock = Stopwatch.StartNew();
        var key = "corral_bench_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var report = new BenchReport
        {
            StartedAt = DateTimeOffset.Now,
            Command = command,
            Machine = MachineInfo.Collect(root),
            Method = Method(options),
            Rounds = options.Rounds,
            SecondsPerRun = options.DurationSeconds,
            Concurrencies = options.Concurrencies,
        };
        if (options.Quick)
        {
            report.Notes.Add("A --quick run: one round, 2 s per run, fewer concurrencies and requests; indicative only.");
        }

        // The startup scenario publishes its own two builds: a run of it alone needs no other.
        var corral = options.Scenarios.SetEquals(["startup"]) ? string.Empty : options.CorralPath ?? CorralProcess.Publish(root, work);
        Console.WriteLine($"Corral: {(corral.Length == 0 ? "(the startup scenario's own builds)" : corral)}; work folder {work}");

        if (options.Scenarios.Contains("throughput"))
        {
            report.Throughput = await SideBySide.RunAsync(options, corral, work, key, report);
        }

        if (options.Scenarios.Contains("speed"))
        {
            Console.WriteLine("Streaming at model speed ...");
            report.StreamTiming = await StreamTiming.RunAsync(options, corral, work, key);
        }

        if (options.Scenarios.Contains("memory"))
        {
            report.Memory = await OpenStreams.RunAsync(options, corral, work, key);
        }

        if (options.Scenarios.Contains("fleet"))
        {
            report.Fleet = await Fleet.RunAsync(corral, work, key);
        }

        if (options.Scenarios.Contains("usage"))
        {
            report.Usage = await UsageQueries.RunAsync(options, corral, work, key);
        }

        if (options.Scenarios.Contains("compare"))
        {
            report.Compare = await Compare.RunAsync(options, corral, work, key, report);
        }

        if (options.Scenarios.Contains("replicas"))
        {
            report.Replicas = await Replicas.RunAsync(options, corral, root, work, key);
        }

        if (options.Scenarios.Contains("startup"))
        {
            report.Startup = await Startup.RunAsync(options, root, work, key);
        }

        report.Targets = Targets.Judge(report);
        report.DurationMinutes = clock.Elapsed.TotalMinutes;
        report.Machine = report.Machine with { LoadAverageAtEnd = MachineInfo.LoadAverage() };
        var output = options.OutputDirectory ?? Path.Combine(root, "bench", "results");
        var written = ReportWriter.Write(report, output);

        Console.WriteLine();
        foreach (var target in report.Targets)
        {
            Console.WriteLine($"{target.Target}: {target.Measured} → {target.Verdict}");
        }

        Console.WriteLine();
        Console.WriteLine($"Results: {written} (and .json, latest.md) after {clock.Elapsed.TotalMinutes:0.0} minutes");
        return 0;
    }

    private static string Method(BenchOptions options)
    {
        var concurrencies = string.Join(", ", options.Concurrencies);
        var setup = string.Create(CultureInfo.InvariantCulture, $$"""
            Everything on loopback on this one machine. The fake Ollama backend is nginx with one worker answering fixed
            bodies (`return 200 '…'`: a three-model tag list, a 400-byte chat answer, 32-line NDJSON streams sent chunked
            like Ollama's). The bearer proxy is nginx with two workers: `if ($http_authorization != "Bearer …") { return 401; }`,
            `proxy_pass` to a keep-alive upstream, `proxy_buffering off`, the Authorization header not forwarded. Corral is
            the published Release build run as `corral serve --admin-key … --backend <fake> --max-concurrency 0 --log-level warning`,
            with authentication on and its defaults otherwise (`--max-concurrency 0`: the fake backend takes any number of
            requests at once, as nginx does; Corral's default of one per model would measure its queue, not its proxying).
            Every request carries `Authorization: Bearer <key>` (the
            direct ones too; the backend ignores it).
            """);
        var throughput = string.Create(CultureInfo.InvariantCulture, $$"""
            Load: `wrk -t1 -c<c> -d{{options.DurationSeconds}}s --latency`, concurrency c = {{concurrencies}}. Each cell runs direct,
            nginx, Corral one after the other, and after a warm-up pass (and driving Corral until its throughput settles,
            see the notes) the whole set of cells is repeated for
            {{options.Rounds}} round(s) (A B A B), so that drift in the machine's load spreads over all three. Figures are medians over
            the rounds; non-2xx and socket errors are summed. "adds (p50)" is the front door's median latency minus the
            direct median at the same concurrency. wrk, nginx and Corral share the machine's {{Environment.ProcessorCount}}
            cores, so at high concurrency the figures also measure how much CPU each front door takes from the others.
            """);
        // Each scenario's paragraph only when it ran: a comparison alone is not described by the side-by-side's cells.
        string[] paragraphs =
        [
            setup,
            .. options.Scenarios.Contains("throughput") ? [throughput] : Array.Empty<string>(),
            .. options.Scenarios.Contains("compare") ? [Compare.Method(options)] : Array.Empty<string>(),
            .. options.Scenarios.Contains("replicas") ? [Replicas.Method(options)] : Array.Empty<string>(),
            .. options.Scenarios.Contains("startup") ? [Startup.Method(options)] : Array.Empty<string>(),
        ];
        return string.Join("\n\n", paragraphs);
    }

    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Corral.slnx")))
                {
                    return folder.FullName;
                }
            }
        }

        throw new BenchmarkException("cannot find the repository (Corral.slnx) above the current folder");
    }
}
