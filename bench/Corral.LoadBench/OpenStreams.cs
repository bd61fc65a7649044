using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Corral.Simulator;

namespace Corral.LoadBench;

/// <summary>
/// Corral's resident memory idle, then with many streams held open at once against a slow simulated model;
/// every stream must end with its final <c>"done":true</c> line.
/// </summary>
internal static class OpenStreams
{
    private const double TokensPerSecond = 2;
    private const int Tokens = 40;

    public static async Task<MemoryFigures> RunAsync(BenchOptions options, string corralExecutable, string work, string key)
    {
        await using var simulator = await SimulatedOllama.StartAsync(new SimulatorOptions
        {
            Listen = "http://127.0.0.1:0",
            Models = [FakeAnswers.Model],
            TokensPerSecond = TokensPerSecond,
            Parallel = options.OpenStreams * 2,
            MaxQueue = options.OpenStreams * 4,
        });
        using var corral = await CorralProcess.StartAsync(corralExecutable, "memory", work, key, ["--backend", simulator.BaseAddress.ToString().TrimEnd('/')]);
        var url = corral.BaseAddress.ToString().TrimEnd('/');
        using var client = Loopback.Client(key);

        // Warm-up: the catalog, each route once, a few short streams side by side.
        for (var i = 0; i < 5; i++)
        {
            using var tags = await client.GetAsync(new Uri(url + "/api/tags"));
            tags.EnsureSuccessStatusCode();
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => StreamAsync(client, url, 2, null, CancellationToken.None)));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var idle = SampleMedian(corral, 3);

        Console.WriteLine($"Memory: idle {Format.Megabytes(idle)}; opening {options.OpenStreams} streams ...");
        using var firstLines = new CountdownEvent(options.OpenStreams);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(Tokens / TokensPerSecond + 120));
        var clock = Stopwatch.StartNew();
        var streams = Enumerable.Range(0, options.OpenStreams)
            .Select(_ => Task.Run(() => StreamAsync(client, url, Tokens, firstLines, cancel.Token)))
            .ToArray();

        var allOpen = await Task.Run(() => firstLines.Wait(TimeSpan.FromSeconds(Tokens / TokensPerSecond)));
        var secondsToOpen = clock.Elapsed.TotalSeconds;
        var open = options.OpenStreams - firstLines.CurrentCount - streams.Count(s => s.IsCompleted);
        long openRss = 0;
        for (var i = 0; i < 5; i++)
        {
            openRss = Math.Max(openRss, corral.Memory().Rss);
            await Task.Delay(500);
        }

        var peak = corral.Memory().Peak;
        Console.WriteLine($"Memory: {open} streams open after {secondsToOpen:0.0} s{(allOpen ? string.Empty : " (not all opened in time)")}, RSS {Format.Megabytes(openRss)}; waiting for them to end ...");

        var outcomes = new ConcurrentBag<string>();
        var completed = 0;
        foreach (var stream in streams)
        {
            try
            {
                if (await stream)
                {
                    completed++;
                }
                else
                {
                    outcomes.Add("ended without a final done:true line");
                }
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                outcomes.Add(e.GetType().Name + ": " + e.Message);
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var after = corral.Memory().Rss;
        var errors = outcomes.GroupBy(o => o, StringComparer.Ordinal).Select(g => $"{g.Count()} × {g.Key}").ToArray();
        return new MemoryFigures(
            idle,
            options.OpenStreams,
            TokensPerSecond,
            Tokens,
            secondsToOpen,
            open,
            openRss,
            Math.Max(peak, corral.Memory().Peak),
            completed,
            options.OpenStreams - completed,
            errors,
            after,
            MachineInfo.OpenFilesLimit());
    }

    /// <summary>Reads one streamed generate answer; true when it ended with its final line.</summary>
    private static async Task<bool> StreamAsync(HttpClient client, string url, int tokens, CountdownEvent? firstLine, CancellationToken cancellationToken)
    {
        var body = $$$"""{"model":"{{{FakeAnswers.Model}}}","prompt":"Why is the sky blue?","options":{"num_predict":{{{tokens}}}}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, url + "/api/generate")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        var signalled = false;
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"status {(int)response.StatusCode}");
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            string? last = null;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (!signalled && firstLine is not null)
                {
                    signalled = true;
                    firstLine.Signal();
                }

                last = line;
            }

            return last is not null && last.Contains("\"done\":true", StringComparison.Ordinal);
        }
        finally
        {
            if (!signalled && firstLine is not null)
            {
                firstLine.Signal();
            }
        }
    }

    private static long SampleMedian(CorralProcess corral, int samples)
    {
        var values = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            values.Add(corral.Memory().Rss);
            Thread.Sleep(500);
        }

        return (long)Stats.Median(values);
    }
}
