using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Corral.LoadBench;

/// <summary>
/// The startup scenario (<c>--only startup</c>): Corral published twice, ReadyToRun and not (both framework-dependent
/// for this machine's runtime identifier), each started fresh in front of the fake backend and driven with
/// non-streamed chat from the moment it answers /healthz: what it serves in the first seconds after start, when the
/// JIT compiles the request path of a build without ReadyToRun code.
/// </summary>
internal static class Startup
{
    private const int Concurrency = 16;
    private static readonly TimeSpan s_window = TimeSpan.FromSeconds(5);

    public static async Task<StartupFigures> RunAsync(BenchOptions options, string root, string work, string key)
    {
        var rid = RuntimeInformation.RuntimeIdentifier;
        (string Name, string Description, string Executable)[] builds =
        [
            ("jit", $"`dotnet publish -r {rid}`, JIT-compiled as it runs", CorralProcess.Publish(root, work, "startup-jit", "-r", rid, "--self-contained", "false")),
            ("readytorun", $"`dotnet publish -r {rid} -p:PublishReadyToRun=true`, as the Docker image", CorralProcess.Publish(root, work, "startup-r2r", "-r", rid, "--self-contained", "false", "-p:PublishReadyToRun=true")),
        ];

        var backendPort = Loopback.FreePort();
        using var fake = Nginx.StartFakeBackend(work, backendPort, Loopback.FreePort());
        var backend = $"http://127.0.0.1:{backendPort.ToString(CultureInfo.InvariantCulture)}";
        await Loopback.WaitUntilServingAsync(backend + "/api/version", fake, TimeSpan.FromSeconds(10));
        // The load's own code paths are compiled before any Corral is timed: a round against the fake backend itself.
        await DriveAsync(backend, key, Stopwatch.StartNew(), TimeSpan.FromSeconds(1));

        var runs = builds.ToDictionary(b => b.Name, _ => new List<StartupRun>(), StringComparer.Ordinal);
        for (var round = 1; round <= options.Rounds; round++)
        {
            var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"startup round {round}/{options.Rounds}");
            foreach (var build in builds)
            {
                var run = await StartAndDriveAsync(build.Executable, $"startup-{build.Name}-{round}", work, key, backend);
                runs[build.Name].Add(run);
                line.Append(CultureInfo.InvariantCulture, $"  {build.Name}: healthy {run.HealthyMs:0} ms, first chat {run.FirstRequestMs:0.0} ms, {run.Requests} requests in {s_window.TotalSeconds:0} s");
            }

            Console.WriteLine(line);
        }

        var figures = builds.Select(b => StartupBuild.Of(b.Name, b.Description, new FileInfo(Path.Combine(Path.GetDirectoryName(b.Executable)!, "corral.dll")).Length, runs[b.Name])).ToArray();
        var (jit, r2r) = (figures[0], figures[1]);
        return new StartupFigures(Concurrency, s_window.TotalSeconds, figures, r2r.Requests / jit.Requests, r2r.FirstRequestMs / jit.FirstRequestMs, r2r.HealthyMs / jit.HealthyMs);
    }

    public static string Method(BenchOptions options) => string.Create(CultureInfo.InvariantCulture, $"""
        Startup (`--only startup`): src/Corral published twice for {RuntimeInformation.RuntimeIdentifier}, framework-dependent, with and without
        `-p:PublishReadyToRun=true`. Each round starts each build afresh (a new process and data folder) in front of the fake
        backend, polls `/healthz` every 50 ms from the moment the process is started, sends one non-streamed `POST /api/chat` as
        soon as it answers (the first request's latency), then {Concurrency} clients send the same request back to back until
        {s_window.TotalSeconds:0} s after the process was started: the requests completed in that window (the first one included) are its
        throughput. {options.Rounds} round(s), the two builds in turn, medians.
        """);

    private static async Task<StartupRun> StartAndDriveAsync(string executable, string name, string work, string key, string backend)
    {
        var clock = Stopwatch.StartNew();
        using var corral = await CorralProcess.StartAsync(executable, name, work, key, ["--backend", backend], outputToFile: true);
        var healthy = clock.Elapsed;
        var url = corral.BaseAddress.ToString().TrimEnd('/');
        using var client = Loopback.Client(key);
        var first = Stopwatch.StartNew();
        using (var response = await client.PostAsync(new Uri(url + "/api/chat"), new StringContent(FakeAnswers.ChatRequest, Encoding.UTF8, "application/json")))
        {
            await response.Content.ReadAsByteArrayAsync();
            if (!response.IsSuccessStatusCode)
            {
                throw new BenchmarkException($"{name}: the first chat request got {(int)response.StatusCode}");
            }
        }

        var firstMs = first.Elapsed.TotalMilliseconds;
        var (requests, errors) = await DriveAsync(url, key, clock, s_window);
        return new StartupRun(healthy.TotalMilliseconds, firstMs, requests + 1, errors);
    }

    /// <summary>Non-streamed chat from <see cref="Concurrency"/> clients back to back until <paramref name="until"/> on <paramref name="clock"/>.</summary>
    private static async Task<(long Requests, long Errors)> DriveAsync(string url, string key, Stopwatch clock, TimeSpan until)
    {
        using var client = Loopback.Client(key);
        var chat = new Uri(url + "/api/chat");
        long requests = 0, errors = 0;
        async Task Loop()
        {
            while (clock.Elapsed < until)
            {
                using var response = await client.PostAsync(chat, new StringContent(FakeAnswers.ChatRequest, Encoding.UTF8, "application/json"));
                await response.Content.ReadAsByteArrayAsync();
                // A request that ends after the window is not the window's.
                if (clock.Elapsed < until)
                {
                    Interlocked.Increment(ref response.IsSuccessStatusCode ? ref requests : ref errors);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(_ => Task.Run(Loop)));
        return (requests, errors);
    }
}

/// <summary>The startup scenario: each build's medians, and ReadyToRun's over the JIT build's.</summary>
/// <param name="Concurrency">Clients sending chat back to back once /healthz answered.</param>
/// <param name="WindowSeconds">Seconds from process start that are counted.</param>
/// <param name="Builds">JIT first, then ReadyToRun.</param>
/// <param name="RequestsRatio">Requests completed in the window, ReadyToRun over JIT.</param>
/// <param name="FirstRequestRatio">Latency of the first chat request, ReadyToRun over JIT (below 1: faster).</param>
/// <param name="HealthyRatio">Process start to /healthz, ReadyToRun over JIT.</param>
internal sealed record StartupFigures(int Concurrency, double WindowSeconds, IReadOnlyList<StartupBuild> Builds, double RequestsRatio, double FirstRequestRatio, double HealthyRatio);

/// <summary>One build of the startup scenario: medians over its runs.</summary>
internal sealed record StartupBuild(string Name, string Description, long AssemblyBytes, double HealthyMs, double FirstRequestMs, double Requests, long Errors, IReadOnlyList<StartupRun> Runs)
{
    public static StartupBuild Of(string name, string description, long assemblyBytes, IReadOnlyList<StartupRun> runs) => new(
        name,
        description,
        assemblyBytes,
        Stats.Median(runs.Select(r => r.HealthyMs)),
        Stats.Median(runs.Select(r => r.FirstRequestMs)),
        Stats.Median(runs.Select(r => (double)r.Requests)),
        runs.Sum(r => r.Errors),
        runs);
}

/// <summary>One fresh start: process start to /healthz, the first chat's latency, requests completed within the window.</summary>
internal sealed record StartupRun(double HealthyMs, double FirstRequestMs, long Requests, long Errors);
