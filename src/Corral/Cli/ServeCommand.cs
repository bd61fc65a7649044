using System.CommandLine;
using Corral.Hosting;

namespace Corral.Cli;

/// <summary><c>corral serve</c>: run the gateway.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var listen = new Option<string>("--listen") { HelpName = "URL", Description = $"URL to listen on. Env CORRAL_LISTEN. Default {CorralSettings.DefaultListen}." };
        var backend = new Option<string[]>("--backend")
        {
            HelpName = "URL",
            Description = $"Ollama server URL; repeat for several. Env OLLAMA_BASE_URLS (';'-separated) or OLLAMA_BASE_URL. Default {CorralSettings.DefaultBackend}.",
        };
        var config = new Option<string>("--config") { HelpName = "FILE", Description = "JSON file with {\"backends\": [{\"name\", \"url\", \"enabled\", \"key\", \"prefix\", \"models\", \"tags\", \"weight\", \"maxConcurrency\"}, ...]}." };
        var data = new Option<string>("--data") { HelpName = "DIR", Description = "Folder of the embedded SQLite database. Env CORRAL_DATA. Default ./data." };
        var adminKey = new Option<string>("--admin-key")
        {
            HelpName = "KEY",
            Description = "Admin key (16+ characters). Env CORRAL_ADMIN_KEY. Without one, Corral creates an admin key at first start, prints it once and stores only its hash.",
        };
        var auth = new Option<string>("--auth") { HelpName = "on|off", Description = "'on' (default) or 'off'. Off serves everyone without a key: only for a trusted single-user machine." };
        var catalogTtl = new Option<double?>("--catalog-ttl") { HelpName = "SECONDS", Description = "Seconds a merged model list is served before it is refreshed in the background. Default 10." };
        var listingTimeout = new Option<double?>("--listing-timeout") { HelpName = "SECONDS", Description = "Seconds Corral waits for one backend's model list, version or loaded models. Default 2." };
        var connectTimeout = new Option<double?>("--connect-timeout") { HelpName = "SECONDS", Description = "Seconds Corral waits to connect to a backend. Default 5." };
        var maxBody = new Option<double?>("--max-body-size") { HelpName = "MB", Description = "Largest JSON request body in MB (blob uploads are exempt). Default 32." };
        var forwardKeyHeaders = new Option<bool>("--forward-key-headers") { Description = "Send the caller's key name and id to backends as X-Corral-Key-Name and X-Corral-Key-Id." };
        var logLevel = new Option<string>("--log-level") { HelpName = "LEVEL", Description = "trace, debug, information (default), warning, error. Env CORRAL_LOG_LEVEL." };

        var command = new Command("serve", "Run the gateway in front of the configured Ollama servers.")
        {
            listen, backend, config, data, adminKey, auth, catalogTtl, listingTimeout, connectTimeout, maxBody, forwardKeyHeaders, logLevel,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var arguments = new ServeArguments
            {
                Listen = parse.GetValue(listen),
                Backends = parse.GetValue(backend) ?? [],
                ConfigFile = parse.GetValue(config),
                DataDirectory = parse.GetValue(data),
                AdminKey = parse.GetValue(adminKey),
                Auth = parse.GetValue(auth),
                CatalogTtlSeconds = parse.GetValue(catalogTtl),
                ListingTimeoutSeconds = parse.GetValue(listingTimeout),
                ConnectTimeoutSeconds = parse.GetValue(connectTimeout),
                MaxBodyMegabytes = parse.GetValue(maxBody),
                ForwardKeyHeaders = parse.GetValue(forwardKeyHeaders),
                LogLevel = parse.GetValue(logLevel),
            };
            return await RunAsync(arguments, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ServeArguments arguments, CancellationToken cancellationToken)
    {
        try
        {
            var settings = SettingsResolver.Resolve(arguments, Environment.GetEnvironmentVariable);
            await using var server = await CorralServer.StartAsync(settings, cancellationToken);
            StartupBanner.Print(settings, server, Console.Out);
            await server.WaitForShutdownAsync(cancellationToken);
            return 0;
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            await Console.Error.WriteLineAsync("Corral did not start. Run 'corral serve --help' for every option.");
            return 2;
        }
    }
}
