using System.Net;
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
        var port = Ports.Free();

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
    public async Task InAContainerOnTheHostsNetwork_Localhost_IsTheHosts_NoWarning()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var hostNetwork = s_host with { Docker = true, HostNetwork = true };

        var target = await Doctor(hostNetwork).CheckAsync(Url(sim), []);

        Check(target, "url").Status.Should().Be(CheckStatus.Ok);
        Check(target, "url").Finding.Should().EndWith("this container shares the host's network, so 127.0.0.1 is the host's own");
        target.Status.Should().Be(CheckStatus.Ok);
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
    [Fact]
    public async Task Discovery_AWrongName_FindsTheOllamaOn127001_AtThatPort_AndRecommendsIt()
    {
        await using var sim = await Sim.StartAsync("llama3.2", "qwen3");
        var port = sim.BaseAddress.Port;

        var report = await DoctorRun.RunAsync([new($"http://ollama-is-not-here.invalid:{port}")], fleet: true, [], TimeSpan.FromSeconds(2), s_host, _ => null, CancellationToken.None);

        var target = report.Targets.Single();
        target.Status.Should().Be(CheckStatus.Fail);
        target.Found.Should().ContainEquivalentOf(new FoundOllama($"http://127.0.0.1:{port}", "0.12.6", 2));
        report.Recommendation.Should().Be($"http://127.0.0.1:{port}");
    }

    [Fact]
    public async Task Discovery_UrlsGivenByHand_AreCandidatesForEachOther_ButAFleetsBackendsAreNot()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var closed = Ports.Free();
        var failing = $"http://127.0.0.2:{closed}";

        var alternatives = await DoctorRun.RunAsync([new(failing), new(Url(sim))], fleet: false, [], TimeSpan.FromSeconds(2), s_host, _ => null, CancellationToken.None);
        var fleet = await DoctorRun.RunAsync([new(failing), new(Url(sim))], fleet: true, [], TimeSpan.FromSeconds(2), s_host, _ => null, CancellationToken.None);

        alternatives.Recommendation.Should().Be(Url(sim));
        alternatives.Targets[0].Found.Select(f => f.Url).Should().StartWith(Url(sim));
        alternatives.Targets[1].Found.Should().BeEmpty("a URL that works needs no discovery");
        // In a fleet the other backend is already in use: recommending it would put one Ollama in twice.
        fleet.Targets[0].Found.Select(f => f.Url).Should().NotContain(Url(sim));
        fleet.Recommendation.Should().BeNull();
    }

    [Fact]
    public async Task Discovery_OllamaHost_IsACandidate_AndAServerThatIsNotOllamaIsNotFound()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([]);
        var environment = new Dictionary<string, string?> { ["OLLAMA_HOST"] = $"0.0.0.0:{sim.BaseAddress.Port}" };

        var report = await DoctorRun.RunAsync(
            [new($"http://127.0.0.2:{Ports.Free()}"), new(corral.BaseAddress.ToString())], fleet: false, [], TimeSpan.FromSeconds(2), s_host, v => environment.GetValueOrDefault(v), CancellationToken.None);

        report.Targets[0].Found.Select(f => f.Url).Should().Contain(Url(sim)).And.NotContain(corral.BaseAddress.ToString().TrimEnd('/'));
        report.Recommendation.Should().Be(Url(sim));
    }

    [Fact]
    public async Task Fix_WritesTheFoundUrlIntoTheConfigFile_KeepingEverythingElse_AndSaysSo()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var port = sim.BaseAddress.Port;
        var folder = Directory.CreateTempSubdirectory("corral-doctor-fix-");
        var path = Path.Combine(folder.FullName, "corral.json");
        var wrong = $"http://ollama-is-not-here.invalid:{port}/";
        var original = $$"""
            {
              // the GPU box
              "backends": [
                { "name": "gpu1", "url": "{{wrong}}", "key": "k-1" },
                { "name": "gpu2", "url": "http://10.0.0.1:11434" }
              ]
            }
            """;
        await File.WriteAllTextAsync(path, original);
        try
        {
            var report = await DoctorRun.RunAsync([new(wrong, "k-1")], fleet: true, [], TimeSpan.FromSeconds(2), s_host, _ => null, CancellationToken.None);
            var said = new StringWriter();

            Corral.Cli.DoctorCommand.Fix(report, path, said).Should().BeTrue();

            (await File.ReadAllTextAsync(path)).Should().Be(original.Replace(wrong, report.Recommendation!, StringComparison.Ordinal));
            report.Recommendation.Should().Be(Url(sim));
            said.ToString().Should().Contain($"backends[0].url \"{wrong}\" -> \"{Url(sim)}\"");
            var problems = new List<string>();
            Corral.Hosting.ConfigFile.Read(path, problems).Backends.Select(b => b.Url.ToString()).Should().Equal($"{Url(sim)}/", "http://10.0.0.1:11434/");
            problems.Should().BeEmpty();
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Fix_NothingFailed_OrTheUrlIsNotInTheFile_ChangesNothing_AndSaysWhy()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var folder = Directory.CreateTempSubdirectory("corral-doctor-fix-");
        var path = Path.Combine(folder.FullName, "corral.json");
        var original = """{ "backends": [ { "name": "a", "url": "http://10.0.0.1:11434" } ] }""";
        await File.WriteAllTextAsync(path, original);
        try
        {
            var fine = await DoctorRun.RunAsync([new(Url(sim))], fleet: false, [], TimeSpan.FromSeconds(2), s_host, _ => null, CancellationToken.None);
            var elsewhere = await DoctorRun.RunAsync([new($"http://127.0.0.2:{Ports.Free()}"), new(Url(sim))], fleet: false, [], TimeSpan.FromSeconds(2), s_host, _ => null, CancellationToken.None);
            var said = new StringWriter();

            Corral.Cli.DoctorCommand.Fix(fine, path, said).Should().BeTrue();
            Corral.Cli.DoctorCommand.Fix(elsewhere, path, said).Should().BeTrue();

            (await File.ReadAllTextAsync(path)).Should().Be(original);
            said.ToString().Should().Contain("nothing to change: no URL failed").And.Contain("is not in " + path);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Print_ListsWhatDiscoveryFound_AndTheRecommendation_InColourOnlyWhenAsked()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var report = await DoctorRun.RunAsync([new($"http://127.0.0.2:{Ports.Free()}"), new(Url(sim))], fleet: false, [], TimeSpan.FromSeconds(2), s_host, _ => null, CancellationToken.None);
        var plain = new StringWriter();
        var coloured = new StringWriter();

        Corral.Cli.DoctorCommand.Print(report, plain);
        Corral.Cli.DoctorCommand.Print(report, coloured, new Corral.Cli.Colours(on: true));

        plain.ToString().Should().Contain("Ollama answers elsewhere:").And.Contain($"{Url(sim)}  Ollama 0.12.6, 1 model").And.Contain($"Recommended: {Url(sim)}").And.NotContain("\u001b[");
        coloured.ToString().Should().Contain("\u001b[31mfail").And.Contain("\u001b[32mok");
    }
}
