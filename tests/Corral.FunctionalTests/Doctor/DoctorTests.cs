using System.Net;
using System.Net.Sockets;
using Corral.Doctor;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Doctor;

/// <summary>The doctor's checks against real servers and ports: what it finds and the fix it says.</summary>
public sealed class DoctorTests
{
    private static readonly DoctorEnvironment s_host = new(Docker: false, Podman: false, Wsl: false, Kubernetes: false, DefaultGateway: null);

    private static OllamaDoctor Doctor(DoctorEnvironment? environment = null) => new(environment ?? s_host, TimeSpan.FromSeconds(2));

    private static string Url(Corral.Simulator.SimulatedOllama sim) => sim.BaseAddress.ToString().TrimEnd('/');

    private static DoctorCheck Check(DoctorTarget target, string name) => target.Checks.Single(c => c.Name == name);

    [Fact]
    public async Task Ollama_AllOk_InOrder_WithItsVersionAndModels()
    {
        await using var sim = await Sim.StartAsync("llama3.2", "qwen3");

        var target = await Doctor().CheckAsync(Url(sim), ["llama3.2"]);

        target.Status.Should().Be(CheckStatus.Ok);
        target.Checks.Select(c => c.Name).Should().Equal("url", "dns", "tcp", "http", "models");
        target.Checks.Should().OnlyContain(c => c.Status == CheckStatus.Ok && c.Fix == null);
        Check(target, "http").Finding.Should().Be($"Ollama 0.12.6 is running at {Url(sim)}");
        Check(target, "models").Finding.Should().StartWith("2 models, llama3.2 among them (");
    }

    [Fact]
    public async Task ModelMissing_Warns_WithThePullCommand()
    {
        await using var sim = await Sim.StartAsync("llama3.2");

        var target = await Doctor().CheckAsync(Url(sim), ["llama3.2", "qwen3:8b"]);

        target.Status.Should().Be(CheckStatus.Warn);
        Check(target, "models").Finding.Should().Contain("not there: qwen3:8b");
        Check(target, "models").Fix.Should().Be("ollama pull qwen3:8b");
    }

    [Fact]
    public async Task NothingListens_TcpFails_WithTheOllamaHostFix_LaterChecksSkipped()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        taken.Stop();

        var target = await Doctor().CheckAsync($"http://127.0.0.1:{port}", []);

        target.Status.Should().Be(CheckStatus.Fail);
        Check(target, "tcp").Finding.Should().Be($"127.0.0.1:{port} refused the connection: nothing listens there, or Ollama listens on 127.0.0.1 only");
        Check(target, "tcp").Fix.Should().Contain("OLLAMA_HOST=0.0.0.0").And.Contain("systemctl edit ollama").And.Contain("docker run -e OLLAMA_HOST=0.0.0.0");
        Check(target, "http").Status.Should().Be(CheckStatus.Skip);
        Check(target, "models").Status.Should().Be(CheckStatus.Skip);
    }

    [Fact]
    public async Task NameWithSeveralAddresses_TheFirstThatAcceptsIsTheFinding_AsForLocalhostWithIPv6First()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var checks = new List<DoctorCheck>();

        // ::1 first, as many systems resolve localhost, while the server listens on 127.0.0.1 only.
        var connected = await Doctor().TcpAsync(sim.BaseAddress, [IPAddress.IPv6Loopback, IPAddress.Loopback], checks, CancellationToken.None);

        connected.Should().BeTrue();
        checks.Single().Status.Should().Be(CheckStatus.Ok);
        checks.Single().Finding.Should().StartWith($"127.0.0.1:{sim.BaseAddress.Port} accepts connections");
    }

    [Fact]
    public async Task NoScheme_UrlFails_WithTheUrlToUse()
    {
        var target = await Doctor().CheckAsync("192.168.1.10:11434", []);

        Check(target, "url").Status.Should().Be(CheckStatus.Fail);
        Check(target, "url").Fix.Should().Be("use http://192.168.1.10:11434");
        target.Checks.Skip(1).Should().OnlyContain(c => c.Status == CheckStatus.Skip);
    }

    [Fact]
    public async Task BearerProxy_401_SaysToSetTheBackendsKey_AndWithTheKeyAllIsOk()
    {
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.RequiredBearerKey = "proxy-token-123");

        var without = await Doctor().CheckAsync(Url(sim), []);
        var with = await Doctor().CheckAsync(Url(sim), [], key: "proxy-token-123");

        Check(without, "http").Status.Should().Be(CheckStatus.Fail);
        Check(without, "http").Finding.Should().Contain("answered 401");
        Check(without, "http").Fix.Should().Contain("\"key\"");
        with.Status.Should().Be(CheckStatus.Ok);
    }

    [Fact]
    public async Task OllamasHostCheck_403ToAForeignHost_Warns_WithOllamaOrigins()
    {
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.LoopbackHostCheck = true);

        var target = await Doctor().CheckAsync(Url(sim), []);

        Check(target, "http").Status.Should().Be(CheckStatus.Warn);
        Check(target, "http").Finding.Should().Contain("403");
        Check(target, "http").Fix.Should().Contain("OLLAMA_ORIGINS");
    }

    [Fact]
    public async Task NotOllama_HttpFails_SayingWhatAnswersThere()
    {
        await using var corral = await CorralInstance.StartAsync([]);

        var target = await Doctor().CheckAsync(corral.BaseAddress.ToString(), []);

        // Corral itself answers "/" only with a key: a server that is not (this) Ollama.
        Check(target, "http").Status.Should().Be(CheckStatus.Fail);
        Check(target, "http").Finding.Should().Contain("answered 401");
    }

    [Fact]
    public async Task InAContainer_Localhost_Warns_ThatItIsTheContainer_WithTheHostNameAndGateway()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var container = s_host with { Docker = true, DefaultGateway = "172.17.0.1" };

        var target = await Doctor(container).CheckAsync(Url(sim).Replace("127.0.0.1", "localhost", StringComparison.Ordinal), []);

        Check(target, "url").Status.Should().Be(CheckStatus.Warn);
        Check(target, "url").Finding.Should().Contain("the container itself");
        Check(target, "url").Fix.Should().Contain($"http://host.docker.internal:{sim.BaseAddress.Port}").And.Contain($"http://172.17.0.1:{sim.BaseAddress.Port}");
    }

    [Fact]
    public async Task Report_ExitCode_ZeroOneTwo()
    {
        await using var sim = await Sim.StartAsync("llama3.2");

        var ok = await Corral.Cli.DoctorCommand.RunAsync([(Url(sim), null)], [], TimeSpan.FromSeconds(2), CancellationToken.None);
        var warn = await Corral.Cli.DoctorCommand.RunAsync([(Url(sim), null)], ["phi4"], TimeSpan.FromSeconds(2), CancellationToken.None);
        var fail = await Corral.Cli.DoctorCommand.RunAsync([(Url(sim), null), ("nothing", null)], [], TimeSpan.FromSeconds(2), CancellationToken.None);

        // This test may itself run in a container, where 127.0.0.1 is only a warning: judge the worst case apart.
        ok.ExitCode.Should().BeLessThanOrEqualTo(1);
        warn.ExitCode.Should().Be(1);
        fail.ExitCode.Should().Be(2);
        var text = new StringWriter();
        Corral.Cli.DoctorCommand.Print(fail, text);
        text.ToString().Should().Contain("fix: use http://nothing");
    }
}
