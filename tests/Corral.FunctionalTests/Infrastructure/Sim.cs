using Corral.Simulator;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>Shorthands for starting simulated Ollama servers on free loopback ports.</summary>
internal static class Sim
{
    public static Task<SimulatedOllama> StartAsync(params string[] models) => StartAsync(models, configure: null);

    public static Task<SimulatedOllama> StartAsync(string[] models, Action<SimulatorOptions>? configure)
    {
        var options = new SimulatorOptions { Listen = "http://127.0.0.1:0", Models = models, TokensPerSecond = 0, Parallel = 8 };
        configure?.Invoke(options);
        return SimulatedOllama.StartAsync(options);
    }

    /// <summary>Requests the simulator received, apart from Corral's background health checks (version and ps).</summary>
    public static JournalEntry[] ReceivedBesidesHealthChecks(this SimulatedOllama simulator) =>
        simulator.Journal.Entries.Where(e => e.Path is not ("/api/version" or "/api/ps")).ToArray();

    /// <summary>Requests the simulator received on <paramref name="path"/>.</summary>
    public static JournalEntry[] Received(this SimulatedOllama simulator, string path) =>
        simulator.Journal.Entries.Where(e => e.Path == path).ToArray();
}
