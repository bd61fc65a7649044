using System.CommandLine;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Simulator;

namespace Corral.Cli;

/// <summary><c>corral demo</c>: Corral in front of two simulated backends, to try it without a GPU.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { HelpName = "URL", Description = "URL for Corral.", DefaultValueFactory = _ => CorralSettings.DefaultListen };
        var command = new Command("demo", "Start Corral with two simulated Ollama backends and print the URL and an admin key.") { listen };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var data = Path.Combine(Path.GetTempPath(), "corral-demo-" + Guid.NewGuid().ToString("N")[..8]);
            await using var alpha = await SimulatedOllama.StartAsync(new SimulatorOptions { Listen = "http://127.0.0.1:0", Models = ["llama3.2", "qwen3", "all-minilm"], TokensPerSecond = 20, LoadMs = 300 }, cancellationToken);
            await using var beta = await SimulatedOllama.StartAsync(new SimulatorOptions { Listen = "http://127.0.0.1:0", Models = ["llama3.2", "gemma3"], TokensPerSecond = 20, LoadMs = 300 }, cancellationToken);
            var settings = new CorralSettings
            {
                Listen = parse.GetValue(listen)!,
                DataDirectory = data,
                Backends =
                [
                    new BackendOptions { Name = "alpha", Url = new Uri(alpha.BaseAddress.ToString().TrimEnd('/')) },
                    new BackendOptions { Name = "beta", Url = new Uri(beta.BaseAddress.ToString().TrimEnd('/')) },
                ],
            };
            try
            {
                await using var server = await CorralServer.StartAsync(settings, cancellationToken);
                StartupBanner.Print(settings, server, Console.Out);
                var url = server.BaseAddress.ToString().TrimEnd('/');
                Console.WriteLine("Try:");
                Console.WriteLine($"    curl -H 'Authorization: Bearer {server.GeneratedAdminKey}' {url}/api/tags");
                Console.WriteLine($"    curl -H 'Authorization: Bearer {server.GeneratedAdminKey}' {url}/api/chat -d '{{\"model\":\"llama3.2\",\"messages\":[{{\"role\":\"user\",\"content\":\"hi\"}}]}}'");
                Console.WriteLine("Press Ctrl+C to stop. The demo's data folder is removed on exit.");
                await server.WaitForShutdownAsync(cancellationToken);
                return 0;
            }
            catch (ConfigurationException e)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 2;
            }
            finally
            {
                try
                {
                    Directory.Delete(data, recursive: true);
                }
                catch (IOException)
                {
                    // Best effort: it lives in the temp folder anyway.
                }
            }
        });
        return command;
    }
}
