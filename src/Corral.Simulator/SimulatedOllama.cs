using System.Net;
using Corral.Simulator.Http;
using Corral.Simulator.Models;
using Corral.Simulator.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Simulator;

/// <summary>
/// A simulated Ollama server on a real Kestrel socket: the native <c>/api/*</c> routes with Ollama's
/// shapes, texts and status codes, a scheduler with slots, queue and keep_alive, and switchable faults.
/// </summary>
public sealed class SimulatedOllama : IAsyncDisposable
{
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly OllamaRouter _router;
    private readonly IPAddress _bindAddress;
    private CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private int _port;
    private int _activeRequests;
    private bool _disposed;

    private SimulatedOllama(SimulatorOptions options)
    {
        Options = options;
        var listen = new Uri(options.Listen, UriKind.Absolute);
        if (listen.Scheme != Uri.UriSchemeHttp)
        {
            throw new ArgumentException($"The simulator listens on http only, not '{options.Listen}'.", nameof(options));
        }

        _bindAddress = listen.Host switch
        {
            "localhost" => IPAddress.Loopback,
            "0.0.0.0" or "*" or "+" => IPAddress.Any,
            _ => IPAddress.Parse(listen.Host.Trim('[', ']')),
        };
        _port = listen.Port;
        Faults = new SimulatorFaults(listening => listening ? RestartAsync() : StopAsync());
        Journal = new RequestJournal();
        Registry = new ModelRegistry(options.Models, options.TimeProvider);
        Blobs = new BlobStore();
        Scheduler = new Scheduler(options);
        _router = new OllamaRouter(this);
    }

    /// <summary>Where the simulator listens, with the actual port.</summary>
    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The options it was started with.</summary>
    public SimulatorOptions Options { get; }

    /// <summary>Runtime fault switches.</summary>
    public SimulatorFaults Faults { get; }

    /// <summary>Every request received (control routes under <c>/_sim/</c> excluded).</summary>
    public RequestJournal Journal { get; }

    /// <summary>Requests currently being served.</summary>
    public int ActiveRequests => Volatile.Read(ref _activeRequests);

    /// <summary>Current local models, normalized (<c>llama3.2:latest</c>), newest first.</summary>
    public IReadOnlyList<string> ModelNames => [.. Registry.List().Select(m => m.Name)];

    internal ModelRegistry Registry { get; }

    internal BlobStore Blobs { get; }

    internal Scheduler Scheduler { get; }

    internal TimeProvider Time => Options.TimeProvider;

    /// <summary>Requests waiting for a model load (the queue that MaxQueue bounds).</summary>
    internal int PendingRequests => Scheduler.PendingRequests;

    internal CancellationToken Stopping => _stopping.Token;

    internal bool IsListening => _app is not null;

    /// <summary>Starts a simulator listening on <see cref="SimulatorOptions.Listen"/>.</summary>
    public static async Task<SimulatedOllama> StartAsync(SimulatorOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var simulator = new SimulatedOllama(options);
        await simulator.ListenAsync(cancellationToken).ConfigureAwait(false);
        return simulator;
    }

    /// <summary>Stops listening: in-flight requests are cut off and new connections are refused.</summary>
    public async Task StopAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Listens again on the same port (no-op when already listening).</summary>
    public async Task RestartAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_app is null)
            {
                _stopping.Dispose();
                _stopping = new CancellationTokenSource();
                await StartCoreAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await StopCoreAsync().ConfigureAwait(false);
            _stopping.Dispose();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    internal void EnterRequest() => Interlocked.Increment(ref _activeRequests);

    internal void ExitRequest() => Interlocked.Decrement(ref _activeRequests);

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StartCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(SimulatedOllama).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });

        // A test double is configured by its options only: no appsettings, no ASPNETCORE_URLS, no Kestrel section, no logs.
        builder.Configuration.Sources.Clear();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, QuietHostLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            kestrel.Listen(_bindAddress, _port);
        });

        var app = builder.Build();
        app.Run(_router.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _port = new Uri(address).Port;
        var host = _bindAddress.Equals(IPAddress.Any) ? "127.0.0.1" : _bindAddress.ToString();
        if (_bindAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = _bindAddress.Equals(IPAddress.IPv6Any) ? "[::1]" : $"[{host}]";
        }

        BaseAddress = new Uri($"http://{host}:{_port}");
        _app = app;
        Faults.MarkListening(true);
    }

    private async Task StopCoreAsync()
    {
        var app = _app;
        if (app is null)
        {
            return;
        }

        _app = null;
        Faults.MarkListening(false);

        // Cut off hanging and streaming requests at once, like a server process going away.
        await _stopping.CancelAsync().ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
    }
}
