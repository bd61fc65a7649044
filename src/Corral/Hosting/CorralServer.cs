using Corral.Access;
using Corral.Admin;
using Corral.Anthropic;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Native;
using Corral.OpenAi;
using Corral.Pipeline;
using Corral.Storage;
using Corral.Usage;
using Corral.WebConsole;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Corral.Hosting;

/// <summary>A running Corral: the web host with every service wired. Used by <c>corral serve</c>, the demo and tests.</summary>
internal sealed class CorralServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CorralServer(WebApplication app, Uri baseAddress, string? generatedAdminKey)
    {
        _app = app;
        BaseAddress = baseAddress;
        GeneratedAdminKey = generatedAdminKey;
    }

    /// <summary>Where Corral listens (the real port when the configuration said 0).</summary>
    public Uri BaseAddress { get; }

    /// <summary>The admin key created at this first start, if one was (it is never shown again).</summary>
    public string? GeneratedAdminKey { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Opens the store, prepares the keys and starts listening.</summary>
    public static async Task<CorralServer> StartAsync(CorralSettings settings, CancellationToken cancellationToken, Action<IServiceCollection>? configureServices = null)
    {
        // Corral reads its own configuration (CorralSettings); the host's appsettings.json reload would only add a
        // file watcher on the working folder (a thread and inotify reads on every change there).
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls(settings.Listen);
        // With socket completions inline (Program.cs), let Kestrel run request processing on the same thread
        // instead of queueing it: one less hop per read and write. Safe because nothing on the request path blocks.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Blob uploads may be many GB; JSON bodies are limited by Corral itself (--max-body-size).
            kestrel.Limits.MaxRequestBodySize = null;
            // A bounded send buffer, so that a client that stops reading holds up Corral's writes within about half
            // a megabyte (instead of the several the kernel would grow it to), and --client-stall-timeout notices.
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => connection =>
            {
                if (connection.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { } socket)
                {
                    socket.SendBufferSize = 256 * 1024;
                }

                return next(connection);
            }));
        });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        builder.Logging.AddFilter("Microsoft", settings.LogLevel > LogLevel.Warning ? settings.LogLevel : LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        builder.Services.AddCorral(settings);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapCorral();

        var store = app.Services.GetRequiredService<IKeyStore>();
        try
        {
            await store.InitializeAsync(cancellationToken);
        }
        catch (Exception e) when (settings.Database is null && e is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException([$"--data: cannot open the database in '{Path.GetFullPath(settings.DataDirectory)}': {e.Message}"]);
        }
        catch (Exception e) when (settings.Database is { } database && e is Npgsql.NpgsqlException or TimeoutException or IOException)
        {
            await app.DisposeAsync();
            var reason = PostgresDatabase.WithoutPassword(e.Message, database);
            throw new ConfigurationException([$"--database: cannot open the PostgreSQL database {PostgresDatabase.Describe(database)}: {reason}"]);
        }

        var keys = app.Services.GetRequiredService<KeyRing>();
        var generated = settings.AuthEnabled ? await keys.EnsureAdminKeyAsync(cancellationToken) : null;
        await keys.LoadAsync(cancellationToken);
        await app.Services.GetRequiredService<ApiBackends>().RestoreAsync(cancellationToken);
        await app.Services.GetRequiredService<ApiPresets>().SyncAsync(cancellationToken);
        app.Services.GetRequiredService<Readiness>().StoreOpen = true;

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new ConfigurationException([$"--listen: cannot listen on {settings.Listen}: {e.Message}"]);
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CorralServer(app, new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal)), generated);
    }

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> fires or the host is asked to stop. The host's own
    /// console lifetime catches SIGTERM and Ctrl+C before the command line sees them, so both are watched.
    /// </summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        var stopping = _app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token);
        }
        catch (OperationCanceledException)
        {
            // Asked to stop.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

/// <summary>Whether Corral can serve: its store is open and its configuration loaded.</summary>
internal sealed class Readiness
{
    public bool StoreOpen { get; set; }
}

/// <summary>Service registration and the request pipeline, kept apart from start-up so both read in one screen.</summary>
internal static class CorralServiceCollectionExtensions
{
    public static IServiceCollection AddCorral(this IServiceCollection services, CorralSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Readiness>();
        services.AddSingleton<TrustedAddresses>();
        services.AddSingleton(new BackendFleet(settings.Backends, settings));
        services.AddSingleton(Random.Shared);
        services.AddSingleton<SlotScheduler>();
        services.AddSingleton<IBackendDoctor, Doctor.BackendDoctor>();
        services.AddSingleton<HealthUpdater>();
        services.AddSingleton<FleetDispatcher>();
        services.AddSingleton<ShutdownDrain>();
        // Kestrel waits this long for running requests after SIGTERM; the drain deadline ends them first.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.DrainTimeout + TimeSpan.FromSeconds(5));
        services.AddSingleton<BackendClient>();
        services.AddSingleton<ListingClient>();
        var presets = new Presets();
        presets.SetConfigured(settings.Presets);
        services.AddSingleton(presets);
        services.AddSingleton<ModelCatalog>();
        services.AddHostedService<CatalogRefresher>();
        services.AddHostedService<HealthChecker>();
        services.AddHostedService<ConfigWatcher>();
        services.AddSingleton<IRoutingPolicy, LeastOutstandingPolicy>();
        services.AddSingleton<Forwarder>();
        services.AddSingleton<Relay>();
        services.AddSingleton<InferencePipeline>();
        if (settings.Database is { } database)
        {
            // PostgreSQL (--database), which other Corrals may share: created by the container, so that it closes its
            // connections when Corral stops; what the others change is heard by the listener.
            services.AddSingleton(_ => new PostgresStore(database));
            services.AddSingleton<IKeyStore>(sp => sp.GetRequiredService<PostgresStore>());
            services.AddSingleton<IBackendStore>(sp => sp.GetRequiredService<PostgresStore>());
            services.AddSingleton<IPresetStore>(sp => sp.GetRequiredService<PostgresStore>());
            services.AddSingleton<IUsageStore>(sp => sp.GetRequiredService<PostgresStore>());
            services.AddSingleton<IAuditStore>(sp => sp.GetRequiredService<PostgresStore>());
            services.AddSingleton<IQuotaStore>(sp => sp.GetRequiredService<PostgresStore>());
            services.AddSingleton<PostgresChangeListener>();
            services.AddSingleton<IStoreChanges>(sp => sp.GetRequiredService<PostgresChangeListener>());
            services.AddHostedService(sp => sp.GetRequiredService<PostgresChangeListener>());
        }
        else
        {
            var store = new SqliteStore(settings.DataDirectory);
            services.AddSingleton<IKeyStore>(store);
            services.AddSingleton<IBackendStore>(store);
            services.AddSingleton<IPresetStore>(store);
            services.AddSingleton<IUsageStore>(store);
            services.AddSingleton<IAuditStore>(store);
            services.AddSingleton<IStoreChanges, NoStoreChanges>();
        }

        services.AddSingleton<ApiBackends>();
        services.AddSingleton<ApiPresets>();
        services.AddSingleton<PresetEndpoints>();
        services.AddSingleton<FleetAdminEndpoints>();
        services.AddSingleton<FleetEvents>();
        services.AddSingleton<ModelUnloader>();
        services.AddSingleton<KeyRing>();
        services.AddSingleton<KeyEndpoints>();
        services.AddSingleton<AuditTrail>();
        services.AddSingleton<AuditEndpoints>();
        services.AddSingleton<DoctorEndpoints>();
        services.AddSingleton<ConsoleAssets>();
        services.AddHostedService<KeyUpkeep>();
        services.AddHostedService<ReplicaSync>();
        services.AddSingleton<FleetInfoEndpoints>();
        services.AddSingleton<InferenceEndpoints>();
        services.AddSingleton<ModelManagementEndpoints>();
        services.AddSingleton<BlobEndpoints>();
        services.AddSingleton<OpenAiEndpoints>();
        services.AddSingleton<UsageRecorder>();
        if (settings.Metrics)
        {
            // prometheus-net rather than OpenTelemetry, one registry per Corral: why in Usage/MetricsEndpoint.cs.
            services.AddSingleton(_ => Prometheus.Metrics.NewCustomRegistry());
            services.AddSingleton<IUsageObserver, RequestMetrics>();
            services.AddSingleton<ScrapeGauges>();
        }

        if (settings.RequestLog == RequestLogFormat.Json)
        {
            services.AddSingleton<RequestLog>();
            services.AddSingleton<IUsageObserver>(sp => sp.GetRequiredService<RequestLog>());
            // Hosted services stop after the server (it is added last), so the log is written to the last request.
            services.AddHostedService(sp => sp.GetRequiredService<RequestLog>());
        }

        if (settings.UsageRecords)
        {
            // The usage store's writer is a hosted service registered before the web server (which WebApplication adds
            // last), so it stops after the server has drained its requests and then writes what they left.
            services.AddSingleton<UsageWriter>();
            services.AddSingleton<IUsageObserver>(sp => sp.GetRequiredService<UsageWriter>());
            services.AddSingleton<IUsageBuffer>(sp => sp.GetRequiredService<UsageWriter>());
            services.AddHostedService(sp => sp.GetRequiredService<UsageWriter>());
        }

        services.AddSingleton<UsageReport>();
        services.AddSingleton<UsageEndpoints>();
        return services;
    }

    public static void MapCorral(this WebApplication app)
    {
        if (app.Services.GetRequiredService<CorralSettings>().KeyInPath)
        {
            // Before routing: /k/<key>/api/tags is routed as /api/tags.
            app.UseMiddleware<KeyInPathMiddleware>();
        }

        app.UseConsoleRedirect();
        app.UseRouting();
        app.UseMiddleware<RecordMiddleware>();
        app.UseMiddleware<AccessMiddleware>();

        // A changed fleet (reloaded configuration, admin API) is listed again and its waiting requests looked at.
        var fleet = app.Services.GetRequiredService<BackendFleet>();
        var catalog = app.Services.GetRequiredService<ModelCatalog>();
        var scheduler = app.Services.GetRequiredService<SlotScheduler>();
        fleet.Changed += () =>
        {
            catalog.Invalidate();
            scheduler.Reconsider();
        };

        var readiness = app.Services.GetRequiredService<Readiness>();
        app.MapGet("/healthz", context => WriteHealthAsync(context, StatusCodes.Status200OK, "ok")).WithMetadata(new AnonymousEndpoint());
        app.MapGet("/readyz", context => readiness.StoreOpen
            ? WriteHealthAsync(context, StatusCodes.Status200OK, "ready")
            : WriteHealthAsync(context, StatusCodes.Status503ServiceUnavailable, "starting"))
            .WithMetadata(new AnonymousEndpoint());
        if (app.Services.GetRequiredService<CorralSettings>().Metrics)
        {
            app.MapMetrics();
        }
        app.MapAdminApi();
        app.MapConsole();
        app.MapNativeApi();
        app.MapOpenAiApi();
        app.MapAnthropicApi();
    }

    private static Task WriteHealthAsync(HttpContext context, int status, string state)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new HealthBody(state), CorralJsonContext.Default.HealthBody, cancellationToken: context.RequestAborted);
    }
}

/// <summary>Body of the health probes.</summary>
internal sealed record HealthBody(string Status);
