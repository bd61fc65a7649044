using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json;

namespace Corral.Doctor;

/// <summary>
/// Where else an Ollama answers when the URL given does not: every candidate probed at once, each with a short
/// timeout. The candidates are the places Ollama usually is as seen from here: the URLs given, the host part of
/// <c>OLLAMA_HOST</c>, 127.0.0.1, the names Docker and Podman give the host, the default gateway and the Docker
/// bridge; each on the failing URL's port and on Ollama's own, 11434.
/// </summary>
internal sealed class OllamaDiscovery(DoctorEnvironment environment, TimeSpan timeout, Func<string, string?> variable)
{
    public const int OllamaPort = 11434;

    /// <summary>
    /// The longest one probe may wait to connect: most candidates lead nowhere, and discovery must not double the
    /// doctor's wait. A candidate that accepts has the doctor's whole timeout to answer.
    /// </summary>
    public static readonly TimeSpan MaxConnectTime = TimeSpan.FromSeconds(1.5);

    private const string DockerBridgeDefault = "172.17.0.1";
    private readonly Dictionary<string, Task<FoundOllama?>> _probes = new(StringComparer.Ordinal);

    /// <summary>
    /// The candidate URLs for a failing <paramref name="failing"/> URL, in the order they are recommended: the
    /// <paramref name="given"/> alternatives first; never the failing URL nor those in <paramref name="inUse"/>.
    /// </summary>
    public IReadOnlyList<string> Candidates(Uri? failing, IEnumerable<string> given, IEnumerable<string> inUse)
    {
        var ports = new[] { failing?.Port ?? OllamaPort, OllamaPort }.Distinct().ToArray();
        var hosts = new List<string>();
        hosts.AddRange(["127.0.0.1", "host.docker.internal", "host.containers.internal", "gateway.docker.internal"]);
        if (environment.DefaultGateway is { } gateway)
        {
            hosts.Add(gateway);
        }

        hosts.Add(DockerBridge());
        var urls = given.Select(g => Hosting.BackendUrl.TryParse(g, out _)).OfType<Uri>().Select(Base)
            .Concat(OllamaHost(variable("OLLAMA_HOST")) is { } configured ? [configured] : [])
            .Concat(hosts.SelectMany(h => ports.Select(p => $"http://{(h.Contains(':', StringComparison.Ordinal) ? $"[{h}]" : h)}:{p}")));
        var excluded = inUse.Select(u => Hosting.BackendUrl.TryParse(u, out _)).OfType<Uri>().Append(failing).OfType<Uri>().Select(Base).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return urls.Where(u => !excluded.Contains(u)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
    }

    /// <summary>Probes every candidate at once; the Ollamas that answered, in the candidates' order.</summary>
    public async Task<IReadOnlyList<FoundOllama>> FindAsync(IReadOnlyList<string> candidates, CancellationToken cancellationToken)
    {
        Task<FoundOllama?>[] probes;
        lock (_probes)
        {
            // A candidate shared by several failing URLs is probed once.
            probes = candidates.Select(c => _probes.TryGetValue(c, out var probe) ? probe : _probes[c] = ProbeAsync(c, cancellationToken)).ToArray();
        }

        return (await Task.WhenAll(probes)).OfType<FoundOllama>().ToArray();
    }

    // OLLAMA_HOST as a client reaches it, as Ollama reads it: "0.0.0.0" (every interface) is 127.0.0.1 from here,
    // the port 11434 unless given (":8080" is every interface on 8080).
    internal static string? OllamaHost(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Trim();
        if (!Uri.TryCreate(text.Contains("://", StringComparison.Ordinal) ? text : "http://" + (text.StartsWith(':') ? "0.0.0.0" + text : text), UriKind.Absolute, out var url))
        {
            return null;
        }

        var host = url.Host.Trim('[', ']');
        host = host is "" or "0.0.0.0" or "::" ? "127.0.0.1" : host;
        var port = url.IsDefaultPort && !text.EndsWith(":80", StringComparison.Ordinal) ? OllamaPort : url.Port;
        return $"http://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}";
    }

    // The address of this machine's docker0 bridge when it has one; inside a container the bridge is usually the
    // default gateway, already a candidate; else Docker's default.
    private static string DockerBridge()
    {
        try
        {
            var bridge = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == "docker0");
            var address = bridge?.GetIPProperties().UnicastAddresses.FirstOrDefault(a => a.Address.AddressFamily == AddressFamily.InterNetwork);
            return address?.Address.ToString() ?? DockerBridgeDefault;
        }
        catch (NetworkInformationException)
        {
            return DockerBridgeDefault;
        }
    }

    private async Task<FoundOllama?> ProbeAsync(string url, CancellationToken cancellationToken)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, ConnectTimeout = timeout < MaxConnectTime ? timeout : MaxConnectTime })
        {
            Timeout = timeout,
        };
        try
        {
            var root = await client.GetStringAsync(new Uri(url + "/"), cancellationToken);
            if (!root.StartsWith(OllamaDoctor.Running, StringComparison.Ordinal))
            {
                return null;
            }

            var version = await Field(client, url + "/api/version", d => d.RootElement.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null, cancellationToken);
            var models = await Field(client, url + "/api/tags", d => d.RootElement.TryGetProperty("models", out var m) && m.ValueKind == JsonValueKind.Array ? m.GetArrayLength() : 0, cancellationToken);
            return new FoundOllama(url, version, models);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task<T?> Field<T>(HttpClient client, string url, Func<JsonDocument, T> read, CancellationToken cancellationToken)
    {
        try
        {
            using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri(url), cancellationToken));
            return document.RootElement.ValueKind == JsonValueKind.Object ? read(document) : default;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            return default;
        }
    }

    private static string Base(Uri url) => url.ToString().TrimEnd('/');
}
