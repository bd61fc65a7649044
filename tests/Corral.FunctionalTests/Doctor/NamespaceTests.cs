using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;

namespace Corral.FunctionalTests.Doctor;

/// <summary>
/// <c>corral doctor</c> run inside a network namespace, as Corral in a container is, against the conditions people
/// meet: the host is the namespace's gateway over a veth pair; Ollama there reachable, bound to 127.0.0.1, behind a
/// dropping firewall, replaced by another HTTP service, behind a bearer proxy, checking the Host header; a name
/// resolving to 169.254.1.2 as under Podman on WSL2. Each must give the right diagnosis and fix.
/// </summary>
public sealed class NamespaceTests
{
    [NetnsFact]
    public async Task OllamaOnTheHostsVethAddress_IsReachedFromInside_AllOk()
    {
        using var space = NetworkNamespace.Create();
        await using var sim = await StartSimAsync(space.HostAddress);

        var (code, report) = await DoctorAsync(space, Url(space.HostAddress, sim), "--model", "llama3.2");

        var target = Target(report);
        Status(target, "tcp").Should().Be("ok");
        Check(target, "http").GetProperty("finding").GetString().Should().Be($"Ollama 0.12.6 is running at {Url(space.HostAddress, sim)}");
        Status(target, "models").Should().Be("ok");
        code.Should().BeLessThanOrEqualTo(1, "at worst the url check warns that this runs in a container");
    }

    [NetnsFact]
    public async Task OllamaBoundTo127001OnTheHost_IsRefusedFromInside_WithTheOllamaHostFix()
    {
        using var space = NetworkNamespace.Create();
        await using var sim = await StartSimAsync("127.0.0.1");

        var (code, report) = await DoctorAsync(space, $"http://{space.HostAddress}:{sim.BaseAddress.Port}");

        var tcp = Check(Target(report), "tcp");
        tcp.GetProperty("finding").GetString().Should().Be($"{space.HostAddress}:{sim.BaseAddress.Port} refused the connection: nothing listens there, or Ollama listens on 127.0.0.1 only");
        tcp.GetProperty("fix").GetString().Should().Contain("OLLAMA_HOST=0.0.0.0").And.Contain("systemctl edit ollama").And.Contain("docker run -e OLLAMA_HOST=0.0.0.0");
        code.Should().Be(2);
    }

    [NetnsFact]
    public async Task ANameResolvingTo169_254_1_2_IsExplainedAsPodmanOnWsl2_WithTheGatewayToUse()
    {
        using var space = NetworkNamespace.Create(hosts: "127.0.0.1 localhost\n169.254.1.2 host.containers.internal\n");

        var (_, report) = await DoctorAsync(space, "http://host.containers.internal:11434", "--timeout", "1");

        var dns = Check(Target(report), "dns");
        dns.GetProperty("status").GetString().Should().Be("warn");
        dns.GetProperty("finding").GetString().Should().Contain("resolves to 169.254.1.2").And.Contain("Podman on WSL2");
        dns.GetProperty("fix").GetString().Should().Be($"use the WSL2 gateway, http://{space.HostAddress}:11434, and let Ollama listen there (OLLAMA_HOST=0.0.0.0)");
        var environment = report.GetProperty("environment");
        environment.GetProperty("defaultGateway").GetString().Should().Be(space.HostAddress);
        environment.GetProperty("hostNames").GetProperty("host.containers.internal").EnumerateArray().Select(a => a.GetString()).Should().Equal("169.254.1.2");
        environment.GetProperty("hostNames").GetProperty("gateway.docker.internal").GetArrayLength().Should().Be(0, "the namespace's hosts file does not name it");
    }

    [NetnsFact(iptables: true)]
    public async Task APortWherePacketsAreDropped_TimesOut_NotRefused_WithTheFirewallRules()
    {
        using var space = NetworkNamespace.Create();
        await using var sim = await StartSimAsync(space.HostAddress);
        // The namespace's firewall drops what comes back from that port: the connection is never answered, as
        // behind a firewall that drops (rather than rejects) it.
        space.Iptables("-A", "INPUT", "-p", "tcp", "--sport", sim.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-j", "DROP");

        var (code, report) = await DoctorAsync(space, Url(space.HostAddress, sim), "--timeout", "1");

        var tcp = Check(Target(report), "tcp");
        tcp.GetProperty("finding").GetString().Should().Be($"{space.HostAddress}:{sim.BaseAddress.Port} did not answer within 1 s: a firewall drops the port, or the address is not that machine's");
        tcp.GetProperty("fix").GetString().Should().Contain($"sudo ufw allow {sim.BaseAddress.Port}/tcp").And.Contain("firewall-cmd --add-port").And.Contain("New-NetFirewallRule");
        code.Should().Be(2);
    }

    [NetnsFact]
    public async Task AnotherHttpServiceOnThePort_IsNotOllama_AndTheDoctorSaysWhatAnswers()
    {
        using var space = NetworkNamespace.Create();
        using var other = new TcpListener(IPAddress.Parse(space.HostAddress), 0);
        other.Start();
        const string Page = "<html><h1>Welcome to nginx!</h1></html>";
        var serving = ServeAsync(other, $"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: {Page.Length}\r\nConnection: close\r\n\r\n{Page}");
        var port = ((IPEndPoint)other.LocalEndpoint).Port;

        var (code, report) = await DoctorAsync(space, $"http://{space.HostAddress}:{port}");

        var http = Check(Target(report), "http");
        http.GetProperty("status").GetString().Should().Be("fail");
        http.GetProperty("finding").GetString().Should().Be($"http://{space.HostAddress}:{port}/ is not Ollama: it answered 200, Server: nginx/1.22.1, \"{Page}\"");
        http.GetProperty("fix").GetString().Should().Contain("Ollama listens on 11434");
        code.Should().Be(2);
        other.Stop();
        await serving;
    }

    [NetnsFact]
    public async Task ABearerProxy_401_SaysToConfigureTheBackendsKey()
    {
        using var space = NetworkNamespace.Create();
        await using var sim = await StartSimAsync(space.HostAddress, o => o.RequiredBearerKey = "proxy-token-123");

        var (_, report) = await DoctorAsync(space, Url(space.HostAddress, sim));

        var http = Check(Target(report), "http");
        http.GetProperty("finding").GetString().Should().Contain("answered 401: a proxy in front of Ollama wants a bearer key");
        http.GetProperty("fix").GetString().Should().Contain("\"key\"");
    }

    [NetnsFact]
    public async Task OllamasHostCheck_403ToAForeignHost_SaysOllamaOrigins()
    {
        using var space = NetworkNamespace.Create();
        await using var sim = await StartSimAsync(space.HostAddress, o => o.LoopbackHostCheck = true);

        var (_, report) = await DoctorAsync(space, Url(space.HostAddress, sim));

        var http = Check(Target(report), "http");
        http.GetProperty("status").GetString().Should().Be("warn");
        http.GetProperty("finding").GetString().Should().Contain("refuses requests with another Host header (403)");
        http.GetProperty("fix").GetString().Should().Contain("OLLAMA_ORIGINS");
    }

    [NetnsFact]
    public async Task Discovery_FindsOllamaOnTheGateway_WhenTheConfiguredUrlIsWrong_AndFixWritesIt()
    {
        using var space = NetworkNamespace.Create();
        await using var sim = await StartSimAsync(space.HostAddress);
        var folder = Directory.CreateTempSubdirectory("corral-netns-");
        var config = Path.Combine(folder.FullName, "corral.json");
        var wrong = $"http://127.0.0.1:{sim.BaseAddress.Port}";
        await File.WriteAllTextAsync(config, $$"""{ "backends": [ { "name": "gpu", "url": "{{wrong}}" } ] }""");
        try
        {
            var (code, report) = await DoctorAsync(space, "--config", config, "--fix");

            var target = Target(report);
            target.GetProperty("url").GetString().Should().Be(wrong);
            Status(target, "tcp").Should().Be("fail");
            target.GetProperty("found").EnumerateArray().Select(f => f.GetProperty("url").GetString()).Should().Contain(Url(space.HostAddress, sim));
            report.GetProperty("recommendation").GetString().Should().Be(Url(space.HostAddress, sim));
            (await File.ReadAllTextAsync(config)).Should().Be($$"""{ "backends": [ { "name": "gpu", "url": "{{Url(space.HostAddress, sim)}}" } ] }""");
            code.Should().Be(2, "the report is of the file as it was");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static Task<SimulatedOllama> StartSimAsync(string address, Action<SimulatorOptions>? configure = null) =>
        Sim.StartAsync(["llama3.2"], o =>
        {
            o.Listen = $"http://{address}:0";
            configure?.Invoke(o);
        });

    private static async Task<(int Code, JsonElement Report)> DoctorAsync(NetworkNamespace space, params string[] arguments)
    {
        var (code, output, error) = await space.CorralAsync(["doctor", "--json", .. arguments]);
        var json = output.Split('\n').FirstOrDefault(l => l.StartsWith('{'));
        json.Should().NotBeNull($"corral doctor prints its report as JSON (exit {code}; stderr: {error}; stdout: {output})");
        return (code, JsonDocument.Parse(json!).RootElement.Clone());
    }

    private static JsonElement Target(JsonElement report) => report.GetProperty("targets").EnumerateArray().Single();

    private static JsonElement Check(JsonElement target, string name) => target.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static string? Status(JsonElement target, string name) => Check(target, name).GetProperty("status").GetString();

    private static string Url(string address, SimulatedOllama sim) => $"http://{address}:{sim.BaseAddress.Port}";

    // A server that is not Ollama: the same answer to every request, then the connection closed.
    private static async Task ServeAsync(TcpListener listener, string answer)
    {
        try
        {
            while (true)
            {
                using var connection = await listener.AcceptTcpClientAsync();
                var stream = connection.GetStream();
                var buffer = new byte[4096];
                var read = 0;
                while (read < buffer.Length && !Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var n = await stream.ReadAsync(buffer.AsMemory(read));
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }

                await stream.WriteAsync(Encoding.ASCII.GetBytes(answer));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // Stopped.
        }
    }
}
