using System.Globalization;
using System.Net;
using System.Text;

namespace Corral.LoadBench;

/// <summary>
/// The side-by-side runs: the fake backend called directly, through the nginx bearer proxy and through Corral,
/// driven by wrk one after the other (direct, nginx, Corral) in every cell of every round; medians over rounds.
/// </summary>
internal static class SideBySide
{
    public static async Task<IReadOnlyList<ThroughputTable>> RunAsync(BenchOptions options, string corralExecutable, string work, string key, BenchReport report)
    {
        var nativePort = Loopback.FreePort();
        var chatStreamPort = Loopback.FreePort();
        var proxyPort = Loopback.FreePort();
        using var fake = Nginx.StartFakeBackend(work, nativePort, chatStreamPort);
        using var proxy = Nginx.StartBearerProxy(work, proxyPort, nativePort, key);
        var direct = $"http://127.0.0.1:{nativePort.ToString(CultureInfo.InvariantCulture)}";
        var nginx = $"http://127.0.0.1:{proxyPort.ToString(CultureInfo.InvariantCulture)}";
        await Loopback.WaitUntilServingAsync(direct + "/api/version", fake, TimeSpan.FromSeconds(10));
        await Loopback.WaitUntilServingAsync(nginx + "/api/version", proxy, TimeSpan.FromSeconds(10), key);

        // Their output (the request log: a JSON line per request) goes to files, emptied after every run (see CorralProcess).
        using var corral = await CorralProcess.StartAsync(corralExecutable, "native", work, key, ["--backend", direct], outputToFile: true);
        using var corralOpenAi = await CorralProcess.StartAsync(corralExecutable, "openai", work, key,
            ["--backend", $"http://127.0.0.1:{chatStreamPort.ToString(CultureInfo.InvariantCulture)}"], outputToFile: true);
        void Sweep()
        {
            corral.SweepOutput();
            corralOpenAi.SweepOutput();
        }

        var doors = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["direct"] = direct,
            ["nginx"] = nginx,
            ["corral"] = corral.BaseAddress.ToString().TrimEnd('/'),
        };
        var chunksPerResponse = await VerifyAsync(doors, corralOpenAi.BaseAddress.ToString().TrimEnd('/'), key);

        var scripts = LoadScenario.All.ToDictionary(s => s.Name, s => Wrk.WriteScript(work, s.Name, s.Method, s.Body, key), StringComparer.Ordinal);
        string UrlOf(LoadScenario scenario, string door) =>
            (scenario.CorralOnly ? corralOpenAi.BaseAddress.ToString().TrimEnd('/') : doors[door]) + scenario.Path;
        IEnumerable<string> DoorsOf(LoadScenario scenario) => scenario.CorralOnly ? ["corral"] : ["direct", "nginx", "corral"];

        // Warm-up: JIT, connection pools, nginx's upstream keep-alive connections. Not recorded.
        Console.WriteLine("Warming up ...");
        foreach (var scenario in LoadScenario.All)
        {
            foreach (var door in DoorsOf(scenario))
            {
                await Wrk.RunAsync(UrlOf(scenario, door), scripts[scenario.Name], 16, options.Quick ? 1 : 2);
                Sweep();
            }
        }

        // A gateway runs for days: drive each Corral until its tiered JIT has settled (see Settling), and report the curve.
        foreach (var scenario in LoadScenario.All.Where(s => s.Name is "chat" or "openai-chat-stream"))
        {
            var line = Settling.Describe(await Settling.RunAsync(UrlOf(scenario, "corral"), scripts[scenario.Name], options, Sweep));
            Console.WriteLine($"Settled {scenario.Name} through Corral: {line} req/s");
            report.Notes.Add($"Before the rounds, Corral was driven with `{scenario.Method} {scenario.Path}` {Settling.Method(options)}, because its tiered JIT needs tens of seconds of saturating load to recompile the hot path: {line} req/s. A Corral that has just started runs at the first of these figures.");
        }

        var runs = new Dictionary<(string Scenario, int Concurrency, string Door), List<WrkResult>>();
        for (var round = 1; round <= options.Rounds; round++)
        {
            foreach (var scenario in LoadScenario.All)
            {
                foreach (var concurrency in options.Concurrencies)
                {
                    var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"round {round}/{options.Rounds} {scenario.Name,-18} c={concurrency,-4}");
                    foreach (var door in DoorsOf(scenario))
                    {
                        var result = await Wrk.RunAsync(UrlOf(scenario, door), scripts[scenario.Name], concurrency, options.DurationSeconds);
                        Sweep();
                        var cell = (scenario.Name, concurrency, door);
                        if (!runs.TryGetValue(cell, out var list))
                        {
                            runs[cell] = list = [];
                        }

                        list.Add(result);
                        line.Append(CultureInfo.InvariantCulture, $"  {door} {result.RequestsPerSecond,9:0} req/s p50 {Format.Us(result.P50Us),9}");
                        if (result.Non2xx + result.SocketErrors > 0)
                        {
                            line.Append(CultureInfo.InvariantCulture, $" (non-2xx {result.Non2xx}, socket errors {result.SocketErrors})");
                        }
                    }

                    Console.WriteLine(line);
                }
            }
        }

        var memory = corral.Memory();
        report.CorralRssAfterThroughputBytes = memory.Rss;
        report.CorralPeakRssDuringThroughputBytes = memory.Peak;
        CheckLogs(corral, report);
        CheckLogs(corralOpenAi, report);

        var tables = new List<ThroughputTable>();
        foreach (var scenario in LoadScenario.All)
        {
            var rows = new List<ThroughputRow>();
            foreach (var concurrency in options.Concurrencies)
            {
                TargetFigures? Figures(string door) => runs.TryGetValue((scenario.Name, concurrency, door), out var list) ? TargetFigures.Of(list) : null;
                var corralFigures = Figures("corral")!;
                var directFigures = Figures("direct");
                var nginxFigures = Figures("nginx");
                rows.Add(new ThroughputRow(
                    concurrency,
                    directFigures,
                    nginxFigures,
                    corralFigures,
                    nginxFigures is null ? null : corralFigures.RequestsPerSecond / nginxFigures.RequestsPerSecond,
                    directFigures is null ? null : corralFigures.P50Us - directFigures.P50Us,
                    directFigures is null || nginxFigures is null ? null : nginxFigures.P50Us - directFigures.P50Us,
                    scenario.CorralOnly ? corralFigures.RequestsPerSecond * chunksPerResponse : null));
            }

            tables.Add(new ThroughputTable(scenario.Name, scenario.Title, $"{scenario.Method} {scenario.Path}{(scenario.Body is null ? string.Empty : " " + scenario.Body)}",
                scenario.Note, scenario.CorralOnly ? chunksPerResponse : null, rows));
        }

        return tables;
    }

    /// <summary>
    /// Every front door answers every scenario as it should before anything is measured (a 401 or an empty
    /// answer measured at 100k requests/s would be worthless); returns the chunk frames of one /v1 answer.
    /// </summary>
    private static async Task<int> VerifyAsync(Dictionary<string, string> doors, string corralOpenAi, string key)
    {
        using var client = Loopback.Client(key);
        using var anonymous = Loopback.Client();
        foreach (var (door, url) in doors)
        {
            await ExpectAsync(client, door, HttpMethod.Get, url + "/api/tags", null, "llama3.2:latest", 1);
            await ExpectAsync(client, door, HttpMethod.Post, url + "/api/chat", FakeAnswers.ChatRequest, "\"done\":true", 1);
            await ExpectAsync(client, door, HttpMethod.Post, url + "/api/generate", FakeAnswers.GenerateRequest, "\"done\":true", FakeAnswers.StreamLines, chunked: true);
            if (door != "direct")
            {
                using var refused = await anonymous.GetAsync(new Uri(url + "/api/tags"));
                if (refused.StatusCode != HttpStatusCode.Unauthorized)
                {
                    throw new BenchmarkException($"{door} answered {(int)refused.StatusCode} without a key, not 401: authentication is not on");
                }
            }
        }

        var sse = await ExpectAsync(client, "corral /v1", HttpMethod.Post, corralOpenAi + "/v1/chat/completions", FakeAnswers.OpenAiStreamRequest, "data: [DONE]", 0);
        var frames = sse.Split('\n').Count(l => l.StartsWith("data: ", StringComparison.Ordinal) && l != "data: [DONE]");
        return frames;
    }

    /// <summary>Sends one request and checks the answer: 2xx, containing <paramref name="mustContain"/>, <paramref name="lines"/> lines (0: any).</summary>
    internal static async Task<string> ExpectAsync(HttpClient client, string door, HttpMethod method, string url, string? body, string mustContain, int lines, bool chunked = false)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var count = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        if (!response.IsSuccessStatusCode || !text.Contains(mustContain, StringComparison.Ordinal) || (lines > 0 && count != lines))
        {
            throw new BenchmarkException($"{door}: {method} {url} answered {(int)response.StatusCode} with {count} lines, expected {lines} containing {mustContain}:\n{text}");
        }

        // Streams must come as Ollama sends them, chunked. (Content-Length cannot tell: the buffered content has one.)
        if (chunked && response.Headers.TransferEncodingChunked != true)
        {
            throw new BenchmarkException($"{door}: {method} {url} answered with a fixed length, not a chunked stream");
        }

        return text;
    }

    private static void CheckLogs(CorralProcess corral, BenchReport report)
    {
        // The start-up banner goes to stdout too; only log lines of level warning and above are worth a note.
        var (count, last) = corral.Problems();
        if (count > 0)
        {
            report.Notes.Add($"Corral ({corral.BaseAddress}) logged {count} warnings or errors during the side-by-side runs, the last: {last}");
        }
    }
}
