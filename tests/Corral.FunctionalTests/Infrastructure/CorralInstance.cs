using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Simulator;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>A real Corral listening on a loopback port, with its own temporary data folder.</summary>
internal sealed class CorralInstance : IAsyncDisposable
{
    public const string AdminKey = "functional-test-admin-key-0123456789";

    private readonly string _dataDirectory;

    private readonly bool _ownsDataDirectory;

    private CorralInstance(CorralServer server, CorralSettings settings, string dataDirectory, bool ownsDataDirectory)
    {
        _ownsDataDirectory = ownsDataDirectory;
        Server = server;
        Settings = settings;
        _dataDirectory = dataDirectory;
    }

    public CorralServer Server { get; }

    public CorralSettings Settings { get; }

    public Uri BaseAddress => Server.BaseAddress;

    public string DataDirectory => _dataDirectory;

    /// <summary>Starts Corral in front of <paramref name="backends"/>; <paramref name="configure"/> adjusts the settings.</summary>
    public static async Task<CorralInstance> StartAsync(
        IEnumerable<BackendOptions> backends,
        Func<CorralSettings, CorralSettings>? configure = null,
        string? dataDirectory = null,
        TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        var data = dataDirectory ?? Path.Combine(Path.GetTempPath(), "corral-ft-" + Guid.NewGuid().ToString("N"));
        var settings = new CorralSettings
        {
            Listen = "http://127.0.0.1:0",
            Backends = backends.ToArray(),
            DataDirectory = data,
            AdminKey = AdminKey,
            LogLevel = Microsoft.Extensions.Logging.LogLevel.Error,
            ListingTimeout = TimeSpan.FromSeconds(2),
            ConnectTimeout = TimeSpan.FromSeconds(2),
        };
        settings = configure?.Invoke(settings) ?? settings;
        var server = await CorralServer.StartAsync(settings, CancellationToken.None, registered =>
        {
            if (time is not null)
            {
                registered.AddSingleton(time);
            }

            services?.Invoke(registered);
        });
        return new CorralInstance(server, settings, data, ownsDataDirectory: dataDirectory is null);
    }

    /// <summary>A backend entry for a simulator.</summary>
    public static BackendOptions Backend(SimulatedOllama simulator, string name, string? prefix = null, string[]? models = null, string? key = null) => new()
    {
        Name = name,
        Url = new Uri(simulator.BaseAddress.ToString().TrimEnd('/')),
        Prefix = prefix,
        Models = models ?? [],
        Key = key,
    };

    /// <summary>An HTTP client for Corral carrying <paramref name="key"/> (the admin key by default; null sends none).</summary>
    public HttpClient Client(string? key = AdminKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>Creates a key through the admin API and returns its secret.</summary>
    public async Task<string> CreateKeyAsync(string role, string name = "test key", DateTimeOffset? expiresAt = null, bool assertsUsers = false)
    {
        using var client = Client();
        using var response = await client.PostAsJsonAsync("/admin/api/keys", new { name, role, expiresAt, assertsUsers });
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("key").GetString()!;
    }

    /// <summary>Creates a key through the admin API from a whole body (<c>{"name","role",...}</c>); its id and secret.</summary>
    public async Task<(string Id, string Secret)> CreateKeyFromAsync(string body)
    {
        using var client = Client();
        using var response = await client.PostAsync("/admin/api/keys", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (document.RootElement.GetProperty("id").GetString()!, document.RootElement.GetProperty("key").GetString()!);
    }

    /// <summary>A backend as the admin API shows it (<c>GET /admin/api/backends/{name}</c>): state, health, loaded models.</summary>
    public async Task<JsonElement> BackendAsync(string name)
    {
        using var client = Client();
        using var response = await client.GetAsync("/admin/api/backends/" + Uri.EscapeDataString(name));
        response.EnsureSuccessStatusCode();
        return await response.JsonAsync();
    }

    /// <summary>A backend's state as the admin API says it: healthy, unhealthy, draining or disabled.</summary>
    public async Task<string> BackendStateAsync(string name) => (await BackendAsync(name)).GetProperty("state").GetString()!;

    /// <summary>The names of the models a backend holds in memory, as the admin API lists them.</summary>
    public async Task<string[]> LoadedModelsAsync(string name) =>
        (await BackendAsync(name)).GetProperty("loadedModels").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToArray();

    /// <summary>Requests waiting for a slot across the fleet, as <c>GET /admin/api/backends</c> says.</summary>
    public async Task<int> QueueDepthAsync()
    {
        using var client = Client();
        using var response = await client.GetAsync("/admin/api/backends");
        response.EnsureSuccessStatusCode();
        return (await response.JsonAsync()).GetProperty("queueDepth").GetInt32();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (!_ownsDataDirectory)
        {
            return;
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Temp folder; a leftover is harmless.
        }
    }
}
