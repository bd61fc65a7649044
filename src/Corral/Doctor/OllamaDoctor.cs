using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Corral.Hosting;

namespace Corral.Doctor;

/// <summary>
/// Finds why an Ollama URL cannot be used, and says the fix: the checks <c>url</c>, <c>dns</c>, <c>tcp</c>,
/// <c>http</c> and <c>models</c>, in that order. A check that fails leaves the later ones skipped: they could not
/// say anything true. Every network step is bounded by the timeout given.
/// </summary>
internal sealed class OllamaDoctor(DoctorEnvironment environment, TimeSpan timeout)
{
    /// <summary>The lowest Ollama version Corral is built against (its /api/ps, /api/embed and think fields).</summary>
    public const string MinimumVersion = "0.5.0";

    /// <summary>What Ollama answers at <c>/</c>: how the doctor, discovery and the container checks know it is Ollama.</summary>
    internal const string Running = "Ollama is running";

    private const string HostCheckProbe = "corral-doctor.invalid";
    private static readonly string[] s_checks = ["url", "dns", "tcp", "http", "models"];

    public async Task<DoctorTarget> CheckAsync(string text, IReadOnlyList<string> models, string? key = null, CancellationToken cancellationToken = default)
    {
        var checks = new List<DoctorCheck>();
        var url = Url(text, checks);
        if (url is not null && await DnsAsync(url, checks, cancellationToken) is { } addresses
            && await TcpAsync(url, addresses, checks, cancellationToken)
            && await HttpAsync(url, key, checks, cancellationToken) is { } client)
        {
            using (client)
            {
                await ModelsAsync(url, client, models, checks, cancellationToken);
            }
        }

        foreach (var name in s_checks.Where(n => checks.All(c => c.Name != n)))
        {
            checks.Add(new DoctorCheck(name, CheckStatus.Skip, "not checked: an earlier check failed"));
        }

        var status = checks.Any(c => c.Status == CheckStatus.Fail) ? CheckStatus.Fail
            : checks.Any(c => c.Status == CheckStatus.Warn) ? CheckStatus.Warn
            : CheckStatus.Ok;
        return new DoctorTarget(url?.ToString().TrimEnd('/') ?? text, status, checks, []);
    }

    private Uri? Url(string text, List<DoctorCheck> checks)
    {
        var url = BackendUrl.TryParse(text, out var problem);
        if (url is null)
        {
            var bare = text.Trim();
            checks.Add(new DoctorCheck("url", CheckStatus.Fail, problem!, bare.Contains("://", StringComparison.Ordinal) ? null : $"use http://{bare}"));
            return null;
        }

        var loopback = url.IsLoopback || url.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase);
        if (environment.InContainer && loopback && environment.HostNetwork)
        {
            checks.Add(new DoctorCheck("url", CheckStatus.Ok, $"{Base(url)} is a well-formed {url.Scheme} URL; this container shares the host's network, so {url.Host} is the host's own"));
        }
        else if (environment.InContainer && loopback)
        {
            var host = environment.Podman ? "host.containers.internal" : "host.docker.internal";
            checks.Add(new DoctorCheck(
                "url",
                CheckStatus.Warn,
                $"{url.Host} inside a container is the container itself, not the machine Ollama runs on",
                $"use http://{host}:{url.Port} (with Docker: extra_hosts: [\"host.docker.internal:host-gateway\"])"
                    + (environment.DefaultGateway is { } gateway ? $", or the host's address as this container sees it, http://{gateway}:{url.Port}" : string.Empty)));
        }
        else
        {
            checks.Add(new DoctorCheck("url", CheckStatus.Ok, $"{Base(url)} is a well-formed {url.Scheme} URL"));
        }

        return url;
    }

    private async Task<IPAddress[]?> DnsAsync(Uri url, List<DoctorCheck> checks, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.DnsSafeHost, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await ResolveAsync(url.DnsSafeHost, timeout, cancellationToken);
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                checks.Add(new DoctorCheck(
                    "dns",
                    CheckStatus.Fail,
                    $"the name {url.DnsSafeHost} does not resolve ({(e is SocketException s ? s.SocketErrorCode.ToString() : "no answer in time")})",
                    url.DnsSafeHost.EndsWith(".internal", StringComparison.OrdinalIgnoreCase)
                        ? "add extra_hosts: [\"host.docker.internal:host-gateway\"] to the container (Docker on Linux has no such name by itself), or use the host's address"
                        : "check the spelling, or use the server's IP address"));
                return null;
            }
        }

        var list = string.Join(", ", addresses.Select(a => a.ToString()));
        if (addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && a.GetAddressBytes() is [169, 254, ..]) is { } linkLocal)
        {
            checks.Add(new DoctorCheck(
                "dns",
                CheckStatus.Warn,
                $"{url.DnsSafeHost} resolves to {list}: {linkLocal} is link-local, what Podman on WSL2 (pasta) gives host.containers.internal; it reaches the host's interface, not its loopback, where Ollama often listens",
                environment.DefaultGateway is { } gateway
                    ? $"use the WSL2 gateway, http://{gateway}:{url.Port}, and let Ollama listen there (OLLAMA_HOST=0.0.0.0)"
                    : "use the host's address on the WSL2 network (`ip route show default` inside the Podman machine), and OLLAMA_HOST=0.0.0.0 for Ollama"));
        }
        else
        {
            checks.Add(new DoctorCheck("dns", CheckStatus.Ok, addresses.Length == 1 && list == url.DnsSafeHost ? $"{list} is an address" : $"{url.DnsSafeHost} resolves to {list}"));
        }

        return addresses;
    }

    /// <summary>
    /// The addresses of <paramref name="name"/>, or <see cref="TimeoutException"/> after <paramref name="timeout"/>. The
    /// system's resolver does not stop when cancelled (a resolver that cannot be reached holds it for its own 5 s per
    /// try), so the wait is left behind rather than cancelled.
    /// </summary>
    internal static Task<IPAddress[]> ResolveAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(name, cancellationToken).WaitAsync(timeout, cancellationToken);

    // Every address the name gave, in order, as a client would (localhost is often ::1 first while Ollama listens on
    // 127.0.0.1): the first that accepts is the finding; when none does, the first one's failure is.
    internal async Task<bool> TcpAsync(Uri url, IPAddress[] addresses, List<DoctorCheck> checks, CancellationToken cancellationToken)
    {
        IPEndPoint? failed = null;
        SocketError? failure = null;
        foreach (var address in addresses)
        {
            var endpoint = new IPEndPoint(address, url.Port);
            using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(timeout);
            var clock = Stopwatch.StartNew();
            try
            {
                await socket.ConnectAsync(endpoint, bound.Token);
                checks.Add(new DoctorCheck("tcp", CheckStatus.Ok, $"{endpoint} accepts connections ({clock.Elapsed.TotalMilliseconds:0.0} ms)"));
                return true;
            }
            catch (SocketException e) when (failed is null)
            {
                (failed, failure) = (endpoint, e.SocketErrorCode);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && failed is null)
            {
                (failed, failure) = (endpoint, SocketError.TimedOut);
            }
            catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // A later address failed too; the first failure is the one reported.
            }
        }

        checks.Add(Unreachable(url, failed!, failure!.Value));
        return false;
    }

    internal DoctorCheck Unreachable(Uri url, IPEndPoint endpoint, SocketError error) => error switch
    {
        SocketError.ConnectionRefused => new DoctorCheck(
            "tcp",
            CheckStatus.Fail,
            $"{endpoint} refused the connection: nothing listens there, or Ollama listens on 127.0.0.1 only",
            "make Ollama listen on every interface: OLLAMA_HOST=0.0.0.0 (systemd: `sudo systemctl edit ollama`, add [Service] Environment=\"OLLAMA_HOST=0.0.0.0\", "
                + "then `sudo systemctl restart ollama`; Docker: `docker run -e OLLAMA_HOST=0.0.0.0 -p 11434:11434 ollama/ollama`)"),
        SocketError.TimedOut => new DoctorCheck(
            "tcp",
            CheckStatus.Fail,
            $"{endpoint} did not answer within {Durations.Seconds(timeout)} s: a firewall drops the port, or the address is not that machine's",
            $"open port {url.Port} on the Ollama machine: `sudo ufw allow {url.Port}/tcp`, or `sudo firewall-cmd --add-port={url.Port}/tcp --permanent && sudo firewall-cmd --reload`, "
                + $"or on Windows `New-NetFirewallRule -DisplayName Ollama -Direction Inbound -Protocol TCP -LocalPort {url.Port} -Action Allow`"),
        SocketError.NetworkUnreachable or SocketError.HostUnreachable => new DoctorCheck(
            "tcp", CheckStatus.Fail, $"there is no route to {endpoint} from here", "check that this machine (or container network) can reach that address at all: `ip route get " + endpoint.Address + "`"),
        _ => new DoctorCheck("tcp", CheckStatus.Fail, $"connecting to {endpoint} failed: {error}"),
    };

    private async Task<HttpClient?> HttpAsync(Uri url, string? key, List<DoctorCheck> checks, CancellationToken cancellationToken)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = timeout };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        try
        {
            using var root = await client.GetAsync(new Uri(Base(url) + "/"), cancellationToken);
            var text = await Start(root, cancellationToken);
            if (root.StatusCode == HttpStatusCode.Unauthorized)
            {
                checks.Add(new DoctorCheck("http", CheckStatus.Fail, $"{Base(url)} answered 401: a proxy in front of Ollama wants a bearer key", "set this backend's \"key\" (in --config) to the token that proxy expects"));
                return Drop(client);
            }

            if (root.StatusCode != HttpStatusCode.OK || !text.StartsWith(Running, StringComparison.Ordinal))
            {
                var server = root.Headers.Server.ToString();
                checks.Add(new DoctorCheck(
                    "http",
                    CheckStatus.Fail,
                    $"{Base(url)}/ is not Ollama: it answered {(int)root.StatusCode}{(server.Length > 0 ? $", Server: {server}" : string.Empty)}, \"{text}\"",
                    "check the port: Ollama listens on 11434 unless OLLAMA_HOST says otherwise; another service may hold it (`sudo ss -ltnp 'sport = :" + url.Port + "'`)"));
                return Drop(client);
            }

            using var foreign = new HttpRequestMessage(HttpMethod.Get, new Uri(Base(url) + "/api/version"));
            foreign.Headers.Host = HostCheckProbe;
            using var hostChecked = await client.SendAsync(foreign, cancellationToken);
            using var version = await client.GetAsync(new Uri(Base(url) + "/api/version"), cancellationToken);
            var number = version.IsSuccessStatusCode ? Version(await version.Content.ReadAsStringAsync(cancellationToken)) : null;
            if (hostChecked.StatusCode == HttpStatusCode.Forbidden)
            {
                checks.Add(new DoctorCheck(
                    "http",
                    CheckStatus.Warn,
                    $"Ollama {number} answers, but refuses requests with another Host header (403): its host check, which a proxy in front of it trips",
                    "send Ollama its own Host (Corral does), or set OLLAMA_ORIGINS=\"*\" on the Ollama server"));
            }
            else if (number is null)
            {
                checks.Add(new DoctorCheck("http", CheckStatus.Warn, $"Ollama is running at {Base(url)}, but /api/version answered {(int)version.StatusCode} without a version"));
            }
            else if (Native.OllamaVersion.Compare(number, MinimumVersion) < 0)
            {
                checks.Add(new DoctorCheck("http", CheckStatus.Warn, $"Ollama {number} is older than {MinimumVersion}, the lowest Corral supports", "upgrade Ollama: https://ollama.com/download"));
            }
            else
            {
                checks.Add(new DoctorCheck("http", CheckStatus.Ok, $"Ollama {number} is running at {Base(url)}"));
            }

            return client;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            checks.Add(new DoctorCheck("http", CheckStatus.Fail, $"{Base(url)} accepted the connection but gave no HTTP answer: {(e is TaskCanceledException ? $"nothing within {Durations.Seconds(timeout)} s" : e.Message)}",
                url.Scheme == "https" ? "check that the server speaks TLS on this port (or use http://)" : "check that this port is Ollama's (11434 by default), not another protocol's"));
            return Drop(client);
        }
    }

    private static async Task ModelsAsync(Uri url, HttpClient client, IReadOnlyList<string> wanted, List<DoctorCheck> checks, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var tags = await client.GetAsync(new Uri(Base(url) + "/api/tags"), cancellationToken);
            var body = await tags.Content.ReadAsStringAsync(cancellationToken);
            var took = clock.Elapsed.TotalMilliseconds;
            using var document = JsonDocument.Parse(body);
            var names = document.RootElement.TryGetProperty("models", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Select(m => m.TryGetProperty("name", out var n) ? n.GetString() ?? string.Empty : string.Empty).ToArray()
                : [];
            var missing = wanted.Where(w => !names.Any(n => Catalog.ModelName.Key(n) == Catalog.ModelName.Key(w))).ToArray();
            var round = $"{took:0.0} ms";
            var count = names.Length == 1 ? "1 model" : $"{names.Length} models";
            if (missing.Length > 0)
            {
                checks.Add(new DoctorCheck("models", CheckStatus.Warn, $"{count} ({round}); not there: {string.Join(", ", missing)}", string.Join("; ", missing.Select(m => $"ollama pull {m}"))));
            }
            else if (names.Length == 0)
            {
                checks.Add(new DoctorCheck("models", CheckStatus.Warn, $"no models yet ({round})", "pull one: `ollama pull llama3.2`"));
            }
            else
            {
                checks.Add(new DoctorCheck("models", CheckStatus.Ok, $"{count}{(wanted.Count > 0 ? $", {string.Join(", ", wanted)} among them" : string.Empty)} ({round})"));
            }
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            checks.Add(new DoctorCheck("models", CheckStatus.Fail, $"/api/tags gave no model list: {e.Message}"));
        }
    }

    private static async Task<string> Start(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 80)).ReplaceLineEndings(" ").Trim();
        return bytes.Length > 80 ? text + "…" : text;
    }

    internal static string? Version(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The URL without its trailing slash, to put a path after.
    private static string Base(Uri url) => url.ToString().TrimEnd('/');

    private static HttpClient? Drop(HttpClient client)
    {
        client.Dispose();
        return null;
    }
}
