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
        var config = new Option<string>("--config")
        {
            HelpName = "FILE",
            Description = "JSON file with {\"backends\": [{\"name\", \"url\", \"enabled\", \"key\", \"prefix\", \"models\", \"tags\", \"weight\", \"maxConcurrency\", \"priority\", "
                + "\"connectTimeout\", \"firstByteTimeout\", \"idleTimeout\"}, ...]}. Changes are applied without restart (see --config-poll).",
        };
        var data = new Option<string>("--data") { HelpName = "DIR", Description = "Folder of the embedded SQLite database. Env CORRAL_DATA. Default ./data." };
        var database = new Option<string>("--database")
        {
            HelpName = "URL",
            Description = "PostgreSQL database for keys, backends, usage and audit instead of SQLite: postgres://user:password@host:5432/db[?sslmode=require] "
                + "or an Npgsql connection string. Env CORRAL_DATABASE. Its schema is brought up to date at start.",
        };
        var adminKey = new Option<string>("--admin-key")
        {
            HelpName = "KEY",
            Description = "Admin key (16+ characters). Env CORRAL_ADMIN_KEY. Without one, Corral creates an admin key at first start, prints it once and stores only its hash.",
        };
        var auth = new Option<string>("--auth") { HelpName = "on|off", Description = "'on' (default) or 'off'. Off serves everyone without a key: only for a trusted single-user machine." };
        var catalogTtl = new Option<string>("--catalog-ttl") { HelpName = "SECONDS", Description = "Seconds a merged model list is served before it is refreshed in the background. Default 10." };
        var listingTimeout = new Option<string>("--listing-timeout") { HelpName = "SECONDS", Description = "Seconds Corral waits for one backend's model list, version or loaded models. Default 2." };
        var connectTimeout = new Option<string>("--connect-timeout") { HelpName = "SECONDS", Description = "Seconds Corral waits to connect to a backend. Default 5." };
        var maxBody = new Option<string>("--max-body-size") { HelpName = "MB", Description = "Largest request body in MB: a JSON body (as decompressed) or an audio upload; blob uploads are exempt. Default 32." };
        var forwardKeyHeaders = new Option<bool>("--forward-key-headers") { Description = "Send the caller's key name and id to backends as X-Corral-Key-Name and X-Corral-Key-Id." };
        var logLevel = new Option<string>("--log-level") { HelpName = "LEVEL", Description = "trace, debug, information (default), warning, error. Env CORRAL_LOG_LEVEL." };
        var firstByteTimeout = new Option<string>("--first-byte-timeout")
        {
            HelpName = "SECONDS",
            Description = "Seconds a backend may take to start answering (a cold load of a large model takes minutes). Default 600.",
        };
        var idleTimeout = new Option<string>("--idle-timeout") { HelpName = "SECONDS", Description = "Longest silence in seconds between two chunks of a backend's answer before it is cut off. Default 300." };
        var healthInterval = new Option<string>("--health-interval") { HelpName = "SECONDS", Description = "Seconds between two health checks of a backend. Default 5." };
        var failureThreshold = new Option<string>("--failure-threshold")
        {
            HelpName = "N",
            Description = "Failures in a row (checks or requests) that take a backend out of rotation until it answers again; 1 or more. Default 3.",
        };
        var maxConcurrency = new Option<string>("--max-concurrency")
        {
            HelpName = "N",
            Description = "Parallel requests per model on a backend, like OLLAMA_NUM_PARALLEL, unless its \"maxConcurrency\" says otherwise; more wait in the queue. 0 = unlimited. Default 1.",
        };
        var queueLength = new Option<string>("--queue-length")
        {
            HelpName = "N",
            Description = "Requests that may wait for a free slot, across the fleet; beyond it they get 503. 0 = no queue. Default 512.",
        };
        var queueTimeout = new Option<string>("--queue-timeout") { HelpName = "SECONDS", Description = "Seconds a request may wait in the queue before it gets 503. Default 120." };
        var coldLoad = new Option<string>("--cold-load-estimate")
        {
            HelpName = "SECONDS",
            Description = "What loading a model is assumed to take on a backend before Corral has seen one load there; it weighs waiting for a busy backend with the model loaded against a cold one. Default 5.",
        };
        var maxAttempts = new Option<string>("--max-attempts")
        {
            HelpName = "N",
            Description = "Backends tried for one request when the earlier ones fail before answering; 1 = no failover. Default 3.",
        };
        var drainTimeout = new Option<string>("--drain-timeout")
        {
            HelpName = "SECONDS",
            Description = "Seconds running answers may go on after SIGTERM before they are ended with an error line; 0 ends them at once. Default 30.",
        };
        var explainRoutes = new Option<bool>("--explain-routes") { Description = "Add X-Corral-Route to answers, saying why their backend was chosen. Default off." };
        var configPoll = new Option<string>("--config-poll")
        {
            HelpName = "SECONDS",
            Description = "Seconds between two checks of the --config file for changes, applied without restart; 0 = never reload. Default 2.",
        };

        var usage = new Option<string>("--usage")
        {
            HelpName = "on|off",
            Description = "Store a usage record for every request (queried with GET /admin/api/usage). Env CORRAL_USAGE. Default on.",
        };
        var metrics = new Option<string>("--metrics")
        {
            HelpName = "on|off",
            Description = "Keep Prometheus metrics and serve them at /metrics. Env CORRAL_METRICS. Default on.",
        };
        var usageRetention = new Option<string>("--usage-retention")
        {
            HelpName = "DAYS",
            Description = "Days usage records are kept one by one (hourly rollups are kept longer, so queries over months stay fast); 0 = for ever. Default 30.",
        };
        var metricsToken = new Option<string>("--metrics-token")
        {
            HelpName = "TOKEN",
            Description = "A bearer token (16+ characters) that may read /metrics besides admin keys, for a Prometheus scrape job. Env CORRAL_METRICS_TOKEN.",
        };
        var metricsPerKey = new Option<bool>("--metrics-per-key") { Description = "Label request and token metrics with the caller's key name too (one series per key). Default off." };
        var requestLog = new Option<string>("--request-log")
        {
            HelpName = "json|off",
            Description = "One JSON line per request on standard output, with the fields of its usage record; no secret, no prompt or answer. Env CORRAL_REQUEST_LOG. Default json when standard output is not a terminal, else off.",
        };
        var logBodies = new Option<bool>("--log-bodies") { Description = "Also put prompts and answers into the request log. Corral says so at every start. Default off." };
        var keyInPath = new Option<bool>("--key-in-path")
        {
            Description = "Also take the key in the path, for clients given only a URL: /k/KEY/api/..., /k/KEY/v1/..., /k/KEY/ollama/... The key is masked in logs and records, "
                + "but proxies in front may log URLs. Default off.",
        };
        var trustedNetwork = new Option<string[]>("--trusted-network")
        {
            HelpName = "CIDR=ROLE",
            Description = "Serve clients from this network without a key, as ROLE (admin or user), e.g. 10.0.0.0/8=user; repeat for several. Also \"trustedNetworks\" in --config.",
        };
        var trustedProxy = new Option<string[]>("--trusted-proxy")
        {
            HelpName = "CIDR",
            Description = "A reverse proxy whose X-Forwarded-For names the client (for --trusted-network and the audit); repeat for several. Also \"trustedProxies\" in --config.",
        };
        var clientStallTimeout = new Option<string>("--client-stall-timeout")
        {
            HelpName = "SECONDS",
            Description = "Seconds a client may take no byte of its answer before it loses it and the backend request is cancelled (frees the slot). Default 30.",
        };

        var command = new Command("serve", "Run the gateway in front of the configured Ollama servers.")
        {
            listen, backend, config, data, database, adminKey, auth, catalogTtl, listingTimeout, connectTimeout, maxBody, forwardKeyHeaders, logLevel,
            firstByteTimeout, idleTimeout, healthInterval, failureThreshold, maxConcurrency, queueLength, queueTimeout, coldLoad, maxAttempts,
            drainTimeout, explainRoutes, configPoll, usage, metrics, usageRetention, metricsToken, metricsPerKey, requestLog, logBodies,
            keyInPath, trustedNetwork, trustedProxy, clientStallTimeout,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var arguments = new ServeArguments
            {
                Listen = parse.GetValue(listen),
                Backends = parse.GetValue(backend) ?? [],
                ConfigFile = parse.GetValue(config),
                DataDirectory = parse.GetValue(data),
                Database = parse.GetValue(database),
                AdminKey = parse.GetValue(adminKey),
                Auth = parse.GetValue(auth),
                CatalogTtlSeconds = parse.GetValue(catalogTtl),
                ListingTimeoutSeconds = parse.GetValue(listingTimeout),
                ConnectTimeoutSeconds = parse.GetValue(connectTimeout),
                MaxBodyMegabytes = parse.GetValue(maxBody),
                ForwardKeyHeaders = parse.GetValue(forwardKeyHeaders),
                LogLevel = parse.GetValue(logLevel),
                FirstByteTimeoutSeconds = parse.GetValue(firstByteTimeout),
                IdleTimeoutSeconds = parse.GetValue(idleTimeout),
                HealthIntervalSeconds = parse.GetValue(healthInterval),
                FailureThreshold = parse.GetValue(failureThreshold),
                MaxConcurrency = parse.GetValue(maxConcurrency),
                QueueLength = parse.GetValue(queueLength),
                QueueTimeoutSeconds = parse.GetValue(queueTimeout),
                MaxAttempts = parse.GetValue(maxAttempts),
                ColdLoadSeconds = parse.GetValue(coldLoad),
                DrainTimeoutSeconds = parse.GetValue(drainTimeout),
                ExplainRoutes = parse.GetValue(explainRoutes),
                ConfigPollSeconds = parse.GetValue(configPoll),
                Usage = parse.GetValue(usage),
                Metrics = parse.GetValue(metrics),
                UsageRetentionDays = parse.GetValue(usageRetention),
                MetricsToken = parse.GetValue(metricsToken),
                MetricsPerKey = parse.GetValue(metricsPerKey),
                RequestLog = parse.GetValue(requestLog),
                LogBodies = parse.GetValue(logBodies),
                KeyInPath = parse.GetValue(keyInPath),
                TrustedNetworks = parse.GetValue(trustedNetwork) ?? [],
                TrustedProxies = parse.GetValue(trustedProxy) ?? [],
                ClientStallTimeoutSeconds = parse.GetValue(clientStallTimeout),
            };
            return await RunAsync(arguments, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(ServeArguments arguments, CancellationToken cancellationToken)
    {
        try
        {
            var settings = SettingsResolver.Resolve(arguments, Environment.GetEnvironmentVariable, outputIsTerminal: !Console.IsOutputRedirected);
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
