using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Simulator;

namespace Corral.LoadBench;

/// <summary>
/// The merged model list of a large fleet: 100 simulated Ollama servers (in this process) of 50 models each,
/// half of them on every server and half each server's own, given to Corral in a --config file.
/// Times the first /api/tags after start and then warm ones on one kept-alive connection.
/// </summary>
internal static class Fleet
{
    private const int Backends = 100;
    private const int ModelsPerBackend = 50;
    private const int SharedModels = 25;
    private const int WarmRequests = 200;

    private static readonly string[] s_families = ["llama3.2", "qwen3", "gemma3", "phi4", "mistral"];
    private static readonly string[] s_sizes = ["1b", "3b", "8b", "14b", "32b"];

    public static async Task<FleetFigures> RunAsync(string corralExecutable, string work, string key)
    {
        Console.WriteLine($"Fleet: starting {Backends} simulated backends of {ModelsPerBackend} models ...");
        var shared = s_families.SelectMany(f => s_sizes.Select(s => $"{f}:{s}")).Take(SharedModels).ToArray();
        var simulators = new List<SimulatedOllama>();
        try
        {
            for (var batch = 0; batch < Backends; batch += 10)
            {
                simulators.AddRange(await Task.WhenAll(Enumerable.Range(batch, Math.Min(10, Backends - batch)).Select(b => SimulatedOllama.StartAsync(new SimulatorOptions
                {
                    Listen = "http://127.0.0.1:0",
                    Models = [.. shared, .. Enumerable.Range(0, ModelsPerBackend - SharedModels).Select(m => string.Create(CultureInfo.InvariantCulture, $"team{b:D3}-finetune-{m:D2}:latest"))],
                }))));
            }

            var config = Path.Combine(work, "fleet.json");
            await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
            {
                backends = simulators.Select((s, i) => new { name = $"b{i + 1}", url = s.BaseAddress.ToString().TrimEnd('/') }).ToArray(),
            }));

            var clock = Stopwatch.StartNew();
            using var corral = await CorralProcess.StartAsync(corralExecutable, "fleet", work, key, ["--config", config]);
            var startToHealthy = clock.Elapsed.TotalMilliseconds;
            using var client = Loopback.Client(key);
            var url = new Uri(corral.BaseAddress, "/api/tags");

            clock.Restart();
            var cold = await GetAsync(client, url);
            var coldMs = clock.Elapsed.TotalMilliseconds;
            using var document = JsonDocument.Parse(cold);
            var merged = document.RootElement.GetProperty("models").GetArrayLength();

            // Warm: one connection kept alive (the client has it from the cold request), the whole body read each time.
            var warm = new List<double>(WarmRequests);
            for (var i = 0; i < WarmRequests; i++)
            {
                clock.Restart();
                await GetAsync(client, url);
                warm.Add(clock.Elapsed.TotalMilliseconds);
            }

            return new FleetFigures(
                Backends, ModelsPerBackend, SharedModels, merged, cold.Length, startToHealthy, coldMs,
                WarmRequests, Stats.Median(warm), Stats.Percentile(warm, 99), corral.Memory().Rss);
        }
        finally
        {
            await Task.WhenAll(simulators.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private static async Task<byte[]> GetAsync(HttpClient client, Uri url)
    {
        using var response = await client.GetAsync(url);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }
}
