using System.Diagnostics;
using System.Globalization;
using System.Text;
using Corral.Simulator;

namespace Corral.LoadBench;

/// <summary>
/// Streaming at model speed: a simulated Ollama producing tokens at a realistic pace, read line by line directly,
/// through the nginx bearer proxy (a reference for what any extra process hop costs on this machine) and through
/// Corral, in turn. Measures the time to the first line and the arrival of every line, and looks for coalescing
/// (lines that arrive together although the model produced them an interval apart).
/// </summary>
internal static class StreamTiming
{
    private const double TokensPerSecond = 50;
    private const int Tokens = 32;

    // Short streams sent through every door before measuring, so that Corral's JIT has reached its optimised
    // tier (methods are recompiled after 30 calls and a 100 ms delay) and what is measured is the steady state.
    private const int WarmUpStreams = 200;

    public static async Task<StreamTimingFigures> RunAsync(BenchOptions options, string corralExecutable, string work, string key)
    {
        await using var simulator = await SimulatedOllama.StartAsync(new SimulatorOptions
        {
            Listen = "http://127.0.0.1:0",
            Models = [FakeAnswers.Model],
            TokensPerSecond = TokensPerSecond,
            Parallel = 16,
        });
        var direct = simulator.BaseAddress.ToString().TrimEnd('/');
        var nginxFolder = Directory.CreateDirectory(Path.Combine(work, "speed")).FullName;
        var nginxPort = Loopback.FreePort();
        using var proxy = Nginx.StartBearerProxy(nginxFolder, nginxPort, simulator.BaseAddress.Port, key);
        var nginx = $"http://127.0.0.1:{nginxPort.ToString(CultureInfo.InvariantCulture)}";
        await Loopback.WaitUntilServingAsync(nginx + "/api/version", proxy, TimeSpan.FromSeconds(10), key);
        using var corral = await CorralProcess.StartAsync(corralExecutable, "speed", work, key, ["--backend", direct]);
        var viaCorral = corral.BaseAddress.ToString().TrimEnd('/');
        using var client = Loopback.Client(key);

        string[] doors = [direct, nginx, viaCorral];
        foreach (var door in doors)
        {
            for (var i = 0; i < WarmUpStreams; i++)
            {
                await ReadAsync(client, door, tokens: 1);
            }
        }

        var runs = doors.ToDictionary(d => d, _ => new List<StreamRead>(), StringComparer.Ordinal);
        for (var i = 0; i < options.SpeedRequests; i++)
        {
            // Rotate which goes first, so none always follows the same one.
            for (var j = 0; j < doors.Length; j++)
            {
                var door = doors[(i + j) % doors.Length];
                runs[door].Add(await ReadAsync(client, door, Tokens));
            }
        }

        return new StreamTimingFigures(TokensPerSecond, Tokens, runs[viaCorral][0].Lines, options.SpeedRequests,
            Summarize(runs[direct]), Summarize(runs[nginx]), Summarize(runs[viaCorral]));
    }

    private static LineTiming Summarize(List<StreamRead> reads)
    {
        var interval = 1_000_000 / TokensPerSecond;
        var gaps = reads.SelectMany(r => r.ContentGapsUs).ToArray();
        return new LineTiming(
            Stats.Median(reads.Select(r => r.FirstLineUs)),
            Stats.Median(gaps),
            Stats.Percentile(gaps, 99),
            gaps.Count(g => g < interval / 4),
            reads.Sum(r => r.MultiLineReads));
    }

    private static async Task<StreamRead> ReadAsync(HttpClient client, string baseUrl, int tokens)
    {
        var body = $$$"""{"model":"{{{FakeAnswers.Model}}}","prompt":"Why is the sky blue?","options":{"num_predict":{{{tokens}}}}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl + "/api/generate")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        var clock = Stopwatch.StartNew();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();

        // Every read is timestamped when it returns; each line it completes gets that time.
        var arrivals = new List<(double Us, bool Final)>();
        var pending = new List<byte>();
        var buffer = new byte[4096];
        var multiLineReads = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            var now = clock.Elapsed.TotalMicroseconds;
            var tokenLines = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n')
                {
                    pending.Add(buffer[i]);
                    continue;
                }

                var line = Encoding.UTF8.GetString([.. pending]);
                pending.Clear();
                var final = line.Contains("\"done\":true", StringComparison.Ordinal);
                arrivals.Add((now, final));
                tokenLines += final ? 0 : 1;
            }

            // Two token lines in one read: they left together although the model produced them an interval apart.
            if (tokenLines > 1)
            {
                multiLineReads++;
            }
        }

        if (arrivals.Count == 0 || !arrivals[^1].Final)
        {
            throw new BenchmarkException($"{baseUrl}/api/generate ended without its final line ({arrivals.Count} lines)");
        }

        // Gaps between consecutive token lines; the final line follows the last token at once by design.
        var content = arrivals.Where(a => !a.Final).Select(a => a.Us).ToArray();
        var gaps = new double[Math.Max(0, content.Length - 1)];
        for (var i = 1; i < content.Length; i++)
        {
            gaps[i - 1] = content[i] - content[i - 1];
        }

        return new StreamRead(arrivals[0].Us, gaps, multiLineReads, arrivals.Count);
    }

    private sealed record StreamRead(double FirstLineUs, double[] ContentGapsUs, int MultiLineReads, int Lines);
}
