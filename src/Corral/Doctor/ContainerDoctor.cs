using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Corral.Hosting;

namespace Corral.Doctor;

/// <summary>
/// <c>corral doctor --container NAME</c>, on the host: why a container cannot reach Ollama. It looks at the container
/// with docker or podman (whichever knows it), reads its Ollama URLs (<c>OLLAMA_BASE_URL</c>, Open WebUI's
/// <c>OLLAMA_BASE_URLS</c>, the <c>API_URL</c> of a mounted Perplexica config.toml), runs the dns, tcp and http checks
/// from inside it, checks the Podman machine and its WSL2 gateway, tries the addresses the host may have as the
/// container sees it, and writes the commands that recreate the container with the first that answers.
/// </summary>
internal sealed class ContainerDoctor(TimeSpan timeout, Func<string, string?>? variable = null)
{
    private const int OllamaPort = 11434;
    private const string PerplexicaSource = "API_URL in ";

    private readonly Func<string, string?> _variable = variable ?? Environment.GetEnvironmentVariable;

    // inspect, machine list and machine ssh get more than a network step: a Podman machine answers slowly.
    private TimeSpan ToolDeadline => timeout + TimeSpan.FromSeconds(20);

    public async Task<ContainerReport> CheckAsync(string name, CancellationToken cancellationToken)
    {
        var checks = new List<DoctorCheck>();
        var tools = ContainerTool.Find(_variable("PATH"));
        if (tools.Count == 0)
        {
            checks.Add(new DoctorCheck("found", CheckStatus.Fail, "neither docker nor podman is on PATH, so there is nothing to look into the container with",
                "run corral doctor --container where the docker or podman command that runs the container works"));
            return Report(name, null, checks, [], null, []);
        }

        var (tool, container, problems) = await InspectAsync(tools, name, cancellationToken);
        var podman = tools.FirstOrDefault(t => t.Name == "podman");
        var machine = podman is not null && (tool is null || tool == podman) ? await MachineAsync(podman, checks, cancellationToken) : null;
        if (tool is null || container is null)
        {
            var asked = string.Join(" and ", tools.Select(t => t.Name));
            checks.Add(machine is { Running: false }
                ? new DoctorCheck("found", CheckStatus.Fail, $"podman could not look for {name}: the Podman machine {machine.Name} is stopped")
                : problems.All(p => p.Contains("no such", StringComparison.OrdinalIgnoreCase))
                    ? new DoctorCheck("found", CheckStatus.Fail, $"there is no container named {name}: asked {asked}", $"`{tools[0].Name} ps -a` lists the containers there are")
                    : new DoctorCheck("found", CheckStatus.Fail, $"could not look for {name}: {string.Join("; ", problems)}"));
            return Report(name, null, checks, [], null, []);
        }

        if (!container.Running)
        {
            checks.Add(new DoctorCheck("found", CheckStatus.Fail, $"{name} is {container.Status}, not running, so nothing can be checked from inside it", $"{tool.Name} start {ContainerRunCommand.Quote(name)}"));
            return Report(name, tool.Name, checks, [], null, []);
        }

        checks.Add(new DoctorCheck("found", CheckStatus.Ok, $"{name} ({container.Image}) is running; looked at with {tool.Name}"));
        var (urls, config) = Urls(container, checks);
        var inside = new Inside(name, tool.Name, container.HostNetwork, machine?.Gateway, new ContainerProbe(tool, name, timeout), new OllamaDoctor(DoctorEnvironment.Detect(), timeout));
        var answered = new Dictionary<string, bool>();
        foreach (var url in urls)
        {
            answered[url.Url] = await CheckUrlAsync(inside, url, checks, cancellationToken);
        }

        var port = urls.Select(u => BackendUrl.TryParse(u.Url, out _)?.Port).FirstOrDefault(p => p is not null) ?? OllamaPort;
        var (recommended, addHost) = await RecommendAsync(inside, machine, urls.Where(u => answered[u.Url]).Select(u => u.Url).FirstOrDefault(), port, checks, cancellationToken);
        var failing = urls.Where(u => !answered[u.Url]).Select(u => u.Url).ToHashSet();
        var recreate = recommended is not null && (failing.Count > 0 || urls.Count == 0 || addHost)
            ? await RecreateAsync(tool, container, config, urls.FirstOrDefault(u => u.Source.StartsWith(PerplexicaSource, StringComparison.Ordinal))?.Url, failing, urls.Count == 0, recommended, addHost, cancellationToken)
            : [];
        return Report(name, tool.Name, checks, urls, recommended, recreate);
    }

    private static ContainerReport Report(string name, string? tool, List<DoctorCheck> checks, IReadOnlyList<ContainerUrl> urls, string? recommendation, IReadOnlyList<string> recreate)
    {
        var status = checks.Any(c => c.Status == CheckStatus.Fail) ? CheckStatus.Fail
            : checks.Any(c => c.Status == CheckStatus.Warn) ? CheckStatus.Warn
            : CheckStatus.Ok;
        return new ContainerReport(name, tool, status, urls, checks, recommendation, recreate);
    }

    // The first tool whose inspect knows the container; with both installed, the container may be either's.
    private async Task<(ContainerTool? Tool, ContainerInspection? Container, List<string> Problems)> InspectAsync(IReadOnlyList<ContainerTool> tools, string name, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        foreach (var tool in tools)
        {
            var inspect = await tool.RunAsync(["container", "inspect", name], ToolDeadline, cancellationToken);
            if (inspect.ExitCode == 0 && ContainerInspection.Parse(inspect.Output) is { } container)
            {
                return (tool, container, problems);
            }

            problems.Add($"{tool.Name}: {(inspect.ExitCode == 0 ? "its inspect answer is not a container's" : inspect.Problem)}");
        }

        return (null, null, problems);
    }

    // Podman on Windows and macOS runs its containers in a machine (a VM): stopped, nothing runs; running, its default
    // route's gateway is the host as the machine sees it (on WSL2, Windows). Native Podman on Linux lists none.
    private async Task<PodmanMachine?> MachineAsync(ContainerTool podman, List<DoctorCheck> checks, CancellationToken cancellationToken)
    {
        var list = await podman.RunAsync(["machine", "list", "--format", "json"], ToolDeadline, cancellationToken);
        PodmanMachine? machine = null;
        try
        {
            using var document = JsonDocument.Parse(list.ExitCode == 0 ? list.Output : "[]");
            var machines = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement.EnumerateArray().ToArray() : [];
            var chosen = machines.FirstOrDefault(m => Flag(m, "Default"));
            chosen = chosen.ValueKind == JsonValueKind.Object ? chosen : machines.FirstOrDefault();
            if (chosen.ValueKind == JsonValueKind.Object)
            {
                machine = new PodmanMachine(
                    chosen.TryGetProperty("Name", out var n) ? n.GetString() ?? "podman-machine-default" : "podman-machine-default",
                    Flag(chosen, "Running"),
                    chosen.TryGetProperty("VMType", out var v) ? v.GetString() ?? string.Empty : string.Empty,
                    null);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }

        if (machine is null)
        {
            return null;
        }

        if (!machine.Running)
        {
            checks.Add(new DoctorCheck("machine", CheckStatus.Fail, $"the Podman machine {machine.Name} is stopped: Podman's containers run inside it", $"podman machine start {machine.Name}"));
            return machine;
        }

        checks.Add(new DoctorCheck("machine", CheckStatus.Ok, $"the Podman machine {machine.Name}{(machine.VmType.Length > 0 ? $" ({machine.VmType})" : string.Empty)} is running"));
        var route = await podman.RunAsync(["machine", "ssh", machine.Name, "ip", "route", "show", "default"], ToolDeadline, cancellationToken);
        var gateway = route.ExitCode == 0 ? RouteGateway(route.Output) : null;
        var place = machine.Wsl ? "the WSL2 gateway, Windows as the Podman machine sees it" : "the machine's gateway, the host as the Podman machine sees it";
        checks.Add(gateway is null
            ? new DoctorCheck("route", CheckStatus.Warn, $"could not read the default route of {machine.Name}: {route.Problem}", $"podman machine ssh {machine.Name} ip route show default")
            : new DoctorCheck("route", CheckStatus.Ok, $"{gateway} is {place}: Ollama there answers on http://{gateway}:{OllamaPort} when it listens on every interface (OLLAMA_HOST=0.0.0.0)"));
        return machine with { Gateway = gateway };
    }

    private static bool Flag(JsonElement element, string name) => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var flag) && flag.ValueKind == JsonValueKind.True;

    /// <summary>The gateway of <c>ip route show default</c>'s "default via 172.29.160.1 dev eth0 …", or null.</summary>
    internal static string? RouteGateway(string routes)
    {
        foreach (var line in routes.Split('\n'))
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (words is ["default", "via", var gateway, ..] && IPAddress.TryParse(gateway, out _))
            {
                return gateway;
            }
        }

        return null;
    }

    private static (List<ContainerUrl> Urls, string? Config) Urls(ContainerInspection container, List<DoctorCheck> checks)
    {
        var urls = new List<ContainerUrl>();
        if (container.Variable("OLLAMA_BASE_URL") is { Length: > 0 } single)
        {
            urls.Add(new ContainerUrl(single, "OLLAMA_BASE_URL"));
        }

        foreach (var url in (container.Variable("OLLAMA_BASE_URLS") ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            urls.Add(new ContainerUrl(url, "OLLAMA_BASE_URLS"));
        }

        var config = PerplexicaConfig.Find(container.Mounts);
        if (config is not null)
        {
            try
            {
                if (PerplexicaConfig.ApiUrl(File.ReadAllText(config)) is { } url)
                {
                    urls.Add(new ContainerUrl(url, PerplexicaSource + config));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                checks.Add(new DoctorCheck("url", CheckStatus.Warn, $"{config} is mounted into {container.Name}, but cannot be read here: {e.Message}", "run corral doctor as a user who may read it"));
            }
        }

        if (urls.Count == 0)
        {
            checks.Add(new DoctorCheck("url", CheckStatus.Fail, $"{container.Name} has no Ollama URL: no OLLAMA_BASE_URL, no OLLAMA_BASE_URLS, no mounted config.toml with an [MODELS.OLLAMA] API_URL"));
        }

        return (urls, config);
    }

    // url, dns, tcp and http for one configured URL, from inside the container; true when Ollama answers there.
    private static async Task<bool> CheckUrlAsync(Inside inside, ContainerUrl configured, List<DoctorCheck> checks, CancellationToken cancellationToken)
    {
        var name = inside.Name;
        var url = BackendUrl.TryParse(configured.Url, out var problem);
        if (url is null)
        {
            checks.Add(new DoctorCheck("url", CheckStatus.Fail, $"{configured.Source} is {configured.Url}: {problem}"));
            return Skipped(checks, "dns", "tcp", "http");
        }

        var host = url.DnsSafeHost;
        checks.Add(!inside.HostNetwork && (url.IsLoopback || host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            ? new DoctorCheck("url", CheckStatus.Warn, $"{Base(url)} (from {configured.Source}): {host} inside {name} is the container itself, not the machine Ollama runs on")
            : new DoctorCheck("url", CheckStatus.Ok, $"{Base(url)} (from {configured.Source})"));
        var address = host;
        if (IPAddress.TryParse(host, out _))
        {
            checks.Add(new DoctorCheck("dns", CheckStatus.Ok, $"{host} is an address"));
        }
        else
        {
            var resolved = await inside.Probe.ResolveAsync(host, cancellationToken);
            var addresses = resolved.Ok
                ? resolved.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split(' ', '\t')[0]).Distinct().ToArray()
                : [];
            if (resolved.Via is null)
            {
                checks.Add(new DoctorCheck("dns", CheckStatus.Fail, $"nothing can be run inside {name}: {resolved.Problem}", "an image without sh cannot be checked from inside; check from a container on its network"));
                return Skipped(checks, "tcp", "http");
            }

            if (resolved.Via == "none")
            {
                checks.Add(new DoctorCheck("dns", CheckStatus.Skip, $"{name} has neither getent nor python to resolve names with; the connection below resolves {host} itself"));
            }
            else if (addresses.Length == 0)
            {
                checks.Add(new DoctorCheck("dns", CheckStatus.Fail, $"inside {name}, {host} does not resolve",
                    host.EndsWith(".internal", StringComparison.OrdinalIgnoreCase)
                        ? $"--add-host {host}:host-gateway (Docker on Linux has no such name by itself; the commands below recreate {name})"
                        : "check the spelling: a compose service's name resolves only in containers on its network"));
                return Skipped(checks, "tcp", "http");
            }
            else if (addresses.FirstOrDefault(a => a.StartsWith("169.254.", StringComparison.Ordinal)) is { } linkLocal)
            {
                checks.Add(new DoctorCheck("dns", CheckStatus.Warn,
                    $"inside {name}, {host} resolves to {string.Join(", ", addresses)}: {linkLocal} is link-local, the host address Podman on WSL2 (pasta) gives; it reaches Windows' network interface, not its loopback, where Ollama often listens",
                    inside.Gateway is { } gateway
                        ? $"use the WSL2 gateway, http://{gateway}:{url.Port}, and let Ollama listen there (OLLAMA_HOST=0.0.0.0)"
                        : "use the WSL2 gateway (`podman machine ssh ip route show default`), and OLLAMA_HOST=0.0.0.0 for Ollama"));
                address = addresses[0];
            }
            else
            {
                checks.Add(new DoctorCheck("dns", CheckStatus.Ok, $"inside {name}, {host} resolves to {string.Join(", ", addresses)} (with {resolved.Via})"));
                address = addresses[0];
            }
        }

        var endpoint = address.Contains(':', StringComparison.Ordinal) ? $"[{address}]:{url.Port}" : $"{address}:{url.Port}";
        var connected = await inside.Probe.ConnectAsync(address, url.Port, cancellationToken);
        if (connected.Via == "none")
        {
            checks.Add(new DoctorCheck("tcp", CheckStatus.Warn, $"{name} has none of {ContainerProbe.ConnectTools}, so no connection can be tried from inside it",
                $"try from a container that shares its network: `{inside.Tool} run --rm --network container:{name} docker.io/curlimages/curl -sS {Base(url)}/`"));
            return Skipped(checks, "http");
        }

        if (Failure(connected) is { } error)
        {
            checks.Add(Unreachable(inside, url, address, endpoint, error, connected));
            return Skipped(checks, "http");
        }

        checks.Add(new DoctorCheck("tcp", CheckStatus.Ok, $"inside {name}, {endpoint} accepts connections (with {connected.Via})"));
        var root = await inside.Probe.GetAsync(url, "/", cancellationToken);
        if (!root.Ok)
        {
            checks.Add(new DoctorCheck("http", CheckStatus.Fail, $"inside {name}, {Base(url)} accepted the connection but gave no HTTP answer: {root.Problem}", "check that this port is Ollama's (11434 by default), not another protocol's"));
            return false;
        }

        if (!root.Output.StartsWith(OllamaDoctor.Running, StringComparison.Ordinal))
        {
            var start = root.Output.ReplaceLineEndings(" ").Trim();
            checks.Add(new DoctorCheck("http", CheckStatus.Fail, $"inside {name}, {Base(url)}/ is not Ollama: it answered \"{(start.Length > 80 ? start[..80] + "…" : start)}\"",
                "check the port: Ollama listens on 11434 unless OLLAMA_HOST says otherwise"));
            return false;
        }

        var version = await inside.Probe.GetAsync(url, "/api/version", cancellationToken);
        var number = version.Ok ? OllamaDoctor.Version(version.Output) : null;
        checks.Add(new DoctorCheck("http", CheckStatus.Ok, $"inside {name}, Ollama{(number is null ? string.Empty : " " + number)} is running at {Base(url)} (with {root.Via})"));
        return true;
    }

    private static bool Skipped(List<DoctorCheck> checks, params string[] names)
    {
        checks.AddRange(names.Select(n => new DoctorCheck(n, CheckStatus.Skip, "not checked: an earlier check failed")));
        return false;
    }

    // How a connection from inside failed, as a socket error; null when it connected. curl and wget connect as part
    // of a GET: an answer that is an HTTP error (or no HTTP at all) still means the port accepted.
    private static SocketError? Failure(ProbeResult result)
    {
        if (result.ExitCode == 0 || (result.Via == "curl" && result.ExitCode is not (6 or 7 or 28)) || (result.Via == "wget" && result.ExitCode == 8))
        {
            return null;
        }

        var error = result.Error;
        return error.Contains("refused", StringComparison.OrdinalIgnoreCase) ? SocketError.ConnectionRefused
            : result.ExitCode is 124 or 28 || error.Contains("timed out", StringComparison.OrdinalIgnoreCase) || error.Contains("timeout", StringComparison.OrdinalIgnoreCase) ? SocketError.TimedOut
            : error.Contains("no route", StringComparison.OrdinalIgnoreCase) || error.Contains("unreachable", StringComparison.OrdinalIgnoreCase) ? SocketError.HostUnreachable
            : error.Contains("resolve", StringComparison.OrdinalIgnoreCase) || error.Contains("not known", StringComparison.OrdinalIgnoreCase) || error.Contains("bad address", StringComparison.OrdinalIgnoreCase) || result.ExitCode == 6 ? SocketError.HostNotFound
            : SocketError.SocketError;
    }

    // The fixes are the host doctor's (OLLAMA_HOST, the firewall rules); the findings say where they were seen.
    private static DoctorCheck Unreachable(Inside inside, Uri url, string address, string endpoint, SocketError error, ProbeResult connected)
    {
        var fix = IPAddress.TryParse(address, out var ip) ? inside.Doctor.Unreachable(url, new IPEndPoint(ip, url.Port), error).Fix : null;
        var finding = error switch
        {
            SocketError.ConnectionRefused => $"{endpoint} refused the connection: nothing listens there, or Ollama listens on 127.0.0.1 only",
            SocketError.TimedOut => $"{endpoint} did not answer in time: a firewall drops the port, or the address is not the host's",
            SocketError.HostUnreachable => $"there is no route to {endpoint}",
            SocketError.HostNotFound => $"{url.DnsSafeHost} does not resolve",
            _ => $"connecting to {endpoint} failed: {connected.Problem}",
        };
        return new DoctorCheck("tcp", CheckStatus.Fail, $"inside {inside.Name}, {finding} (with {connected.Via})", fix);
    }

    // The configured URL when it answers; else the first of the candidates from which Ollama answers.
    private static async Task<(string? Url, bool AddHost)> RecommendAsync(Inside inside, PodmanMachine? machine, string? working, int port, List<DoctorCheck> checks, CancellationToken cancellationToken)
    {
        var name = inside.Name;
        if (working is not null)
        {
            checks.Add(new DoctorCheck("answer", CheckStatus.Ok, $"from inside {name}, {working} answers \"{OllamaDoctor.Running}\""));
            return (working, false);
        }

        var tried = new List<string>();
        await foreach (var (url, what, containerGateway) in CandidatesAsync(inside, machine, port, cancellationToken))
        {
            var answer = await inside.Probe.GetAsync(new Uri(url), "/", cancellationToken);
            if (answer.Via == "none")
            {
                checks.Add(new DoctorCheck("answer", CheckStatus.Skip, $"no other URL can be tried from inside {name}: it has none of curl, wget, python3, python or bash"));
                return (null, false);
            }

            if (answer.Ok && answer.Output.StartsWith(OllamaDoctor.Running, StringComparison.Ordinal))
            {
                // Docker's host-gateway is the host's address on the default bridge, where an Ollama that answered on
                // this network's gateway (listening on every interface) answers too; a name outlives the address.
                if (containerGateway && inside.Tool == "docker" && !inside.HostNetwork)
                {
                    var named = $"http://host.docker.internal:{port}";
                    checks.Add(new DoctorCheck("answer", CheckStatus.Ok,
                        $"from inside {name}, {url} ({what}) answers \"{OllamaDoctor.Running}\": the host, which --add-host {ContainerRunCommand.HostGateway} names host.docker.internal, so use {named}"));
                    return (named, true);
                }

                checks.Add(new DoctorCheck("answer", CheckStatus.Ok, $"from inside {name}, {url} ({what}) answers \"{OllamaDoctor.Running}\": use it"));
                return (url, false);
            }

            // curl says only "Couldn't connect" where a connection's own error says refused or no route.
            var uri = new Uri(url);
            var connected = answer.Ok ? answer : await inside.Probe.ConnectAsync(uri.DnsSafeHost, uri.Port, cancellationToken);
            tried.Add($"{url} ({Outcome(connected.Ok ? answer : connected)})");
        }

        checks.Add(new DoctorCheck("answer", CheckStatus.Fail, $"from inside {name}, nothing answers \"{OllamaDoctor.Running}\"; tried {string.Join(", ", tried)}",
            "start Ollama and let it listen on every interface (OLLAMA_HOST=0.0.0.0), then run this again"));
        return (null, false);
    }

    // The host as the container may see it: the engine's name for it, the Podman machine's gateway, then (asked
    // only when those did not answer) the container's own default gateway.
    private static async IAsyncEnumerable<(string Url, string What, bool ContainerGateway)> CandidatesAsync(
        Inside inside, PodmanMachine? machine, int port, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var hostName = inside.Tool == "podman" ? "host.containers.internal" : "host.docker.internal";
        yield return ($"http://{hostName}:{port}", hostName, false);
        if (machine?.Gateway is { } machineGateway)
        {
            yield return ($"http://{machineGateway}:{port}", machine.Wsl ? "the WSL2 gateway" : "the Podman machine's gateway", false);
        }

        if (await ContainerGatewayAsync(inside, cancellationToken) is { } gateway)
        {
            yield return ($"http://{gateway}:{port}", $"{inside.Name}'s default gateway", true);
        }
    }

    private static string Outcome(ProbeResult answer) => Failure(answer) switch
    {
        SocketError.ConnectionRefused => "refused",
        SocketError.TimedOut => "no answer in time",
        SocketError.HostUnreachable => "no route",
        SocketError.HostNotFound => "does not resolve",
        null => answer.Ok ? "not Ollama" : answer.Problem,
        _ => answer.Problem,
    };

    private static async Task<string?> ContainerGatewayAsync(Inside inside, CancellationToken cancellationToken)
    {
        var routes = await inside.Probe.GatewayAsync(cancellationToken);
        return !routes.Ok ? null : routes.Via == "ip" ? RouteGateway(routes.Output) : DoctorEnvironment.Gateway(routes.Output);
    }

    // The URLs that failed replaced by the one that answers: in the mounted config.toml (edited in place), in the
    // environment (which only a new container can have), then a restart or the rm and run that recreate it.
    private async Task<IReadOnlyList<string>> RecreateAsync(
        ContainerTool tool, ContainerInspection container, string? config, string? configUrl, HashSet<string> failing, bool none, string recommended, bool addHost, CancellationToken cancellationToken)
    {
        var commands = new List<string>();
        // A mounted config.toml without an API_URL is where Perplexica wants one.
        if (config is not null && (configUrl is null ? none : failing.Contains(configUrl)))
        {
            commands.Add(PerplexicaConfig.Edit(config, recommended));
        }

        var env = container.Env.Select(e => e.Split('=', 2) switch
        {
            ["OLLAMA_BASE_URL", var url] when failing.Contains(url) => "OLLAMA_BASE_URL=" + recommended,
            ["OLLAMA_BASE_URLS", var list] => "OLLAMA_BASE_URLS=" + string.Join(';', list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(u => failing.Contains(u) ? recommended : u).Distinct()),
            _ => e,
        }).ToList();
        if (none && config is null)
        {
            env.Add("OLLAMA_BASE_URL=" + recommended);
        }

        if (!addHost && env.SequenceEqual(container.Env))
        {
            commands.Add($"{tool.Name} restart {ContainerRunCommand.Quote(container.Name)}");
            return commands;
        }

        // The image's own variables (PATH and the like) come back with the image; what is left is what was given to run.
        var image = await tool.RunAsync(["image", "inspect", container.Image], ToolDeadline, cancellationToken);
        var (imageEnv, imageCommand) = image.ExitCode == 0 ? ContainerInspection.ParseImage(image.Output) : ([], []);
        var given = env.Where(e => !imageEnv.Contains(e) && !e.StartsWith("HOSTNAME=", StringComparison.Ordinal) && e != "container=podman"
            && (imageEnv.Count > 0 || !e.StartsWith("PATH=", StringComparison.Ordinal))).ToArray();
        var command = imageCommand.Count > 0 && !imageCommand.SequenceEqual(container.Command) ? container.Command : [];
        commands.AddRange(ContainerRunCommand.Recreate(tool.Name, container, given, addHost, command));
        return commands;
    }

    private static string Base(Uri url) => url.ToString().TrimEnd('/');

    private sealed record PodmanMachine(string Name, bool Running, string VmType, string? Gateway)
    {
        public bool Wsl => VmType.Equals("wsl", StringComparison.OrdinalIgnoreCase);
    }

    // What every check from inside needs: the container, the tool, how it is networked, the probe.
    private sealed record Inside(string Name, string Tool, bool HostNetwork, string? Gateway, ContainerProbe Probe, OllamaDoctor Doctor);
}
