using System.CommandLine;
using Corral.Simulator;

namespace Corral.Cli;

/// <summary><c>corral sim</c>: a simulated Ollama server for tests, benchmarks and demos.</summary>
internal static class SimCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { HelpName = "URL", Description = "URL to listen on.", DefaultValueFactory = _ => "http://127.0.0.1:11434" };
        var models = new Option<string>("--models") { HelpName = "NAMES", Description = "Comma-separated model names it holds, e.g. llama3.2,qwen3,all-minilm.", DefaultValueFactory = _ => "llama3.2" };
        var tokensPerSecond = new Option<double>("--tokens-per-second") { HelpName = "N", Description = "Generation speed; 0 means as fast as possible.", DefaultValueFactory = _ => 50 };
        var loadMs = new Option<int>("--load-ms") { HelpName = "MS", Description = "Delay of a cold model load, in milliseconds.", DefaultValueFactory = _ => 0 };
        var parallel = new Option<int>("--parallel") { HelpName = "N", Description = "Parallel requests per loaded model (OLLAMA_NUM_PARALLEL).", DefaultValueFactory = _ => 1 };
        var maxQueue = new Option<int>("--max-queue") { HelpName = "N", Description = "Pending requests before 503 server busy (OLLAMA_MAX_QUEUE).", DefaultValueFactory = _ => 512 };

        var command = new Command("sim", "Run a simulated Ollama server (no GPU needed). Failure switches: POST /_sim/faults.")
        {
            listen, models, tokensPerSecond, loadMs, parallel, maxQueue,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new SimulatorOptions
            {
                Listen = parse.GetValue(listen)!,
                Models = parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                TokensPerSecond = parse.GetValue(tokensPerSecond),
                LoadMs = parse.GetValue(loadMs),
                Parallel = parse.GetValue(parallel),
                MaxQueue = parse.GetValue(maxQueue),
            };
            try
            {
                await using var simulator = await SimulatedOllama.StartAsync(options, cancellationToken);
                Console.WriteLine($"Simulated Ollama listening on {simulator.BaseAddress} with {string.Join(", ", simulator.ModelNames)}");
                await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
                return 0;
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"cannot listen on {options.Listen}: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
