using Corral.Cli;
using Corral.Hosting;
using static Corral.Tests.Deploy.ComposeFile;

namespace Corral.Tests.Deploy;

/// <summary>The compose files of <c>deploy/</c>, parsed as YAML: every value the README and their comments promise.</summary>
public sealed class ComposeFileTests
{
    public static TheoryData<string> Topologies => [.. ComposeTopologies.Files.Select(f => f.File)];

    public static TheoryData<string> AllFiles => [.. ComposeTopologies.Files.Select(f => f.File), "compose.yaml"];

    [Fact]
    public void Topologies_AreEveryComposeFileOfDeploy_ButTheReplicas()
    {
        var onDisk = Directory.GetFiles(DeployFolder.Path, "compose*.yaml").Select(Path.GetFileName).Where(f => f != "compose.yaml");

        ComposeTopologies.Files.Select(f => f.File).Should().BeEquivalentTo(onDisk);
    }

    [Theory]
    [MemberData(nameof(Topologies))]
    public void Embedded_IsTheFileOfDeploy(string file)
    {
        ComposeTopologies.Text(file).Should().Be(DeployFolder.Read(file));
    }

    [Theory]
    [MemberData(nameof(Topologies))]
    public void Corral_BuiltFromTheDockerfile_PublishedOn11480_DataInAVolume_CheckedWithCorralHealth_KeyRequired(string file)
    {
        var compose = Load(file);
        var corral = compose.Service("corral");

        Scalar(Mapping(corral, "build"), "context").Should().Be("..");
        Scalar(Mapping(corral, "build"), "dockerfile").Should().Be("deploy/Dockerfile");
        File.Exists(Path.Combine(DeployFolder.Path, "..", Scalar(Mapping(corral, "build"), "dockerfile"))).Should().BeTrue();
        Sequence(corral, "ports").Should().Equal("11480:11480");
        Sequence(corral, "volumes").Should().Equal("corral:/data");
        compose.VolumeNames.Should().Contain("corral");
        Sequence(Mapping(corral, "healthcheck"), "test").Should().Equal("CMD", "./corral", "health");
        ComposeFile.Environment(corral, "CORRAL_ADMIN_KEY").Should().StartWith("${CORRAL_ADMIN_KEY:?", "Corral never starts without the key in front of Ollama");
        Scalar(corral, "restart").Should().Be("unless-stopped");
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void Corral_GetsLongerToStopThanItsDrain(string file)
    {
        var grace = Scalar(Load(file).Service("corral"), "stop_grace_period");

        grace.Should().EndWith("s");
        TimeSpan.FromSeconds(int.Parse(grace.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture))
            .Should().BeGreaterThan(new CorralSettings().DrainTimeout + TimeSpan.FromSeconds(5), "Kestrel waits the drain and 5 s more before the usage records are written");
    }

    [Theory]
    [MemberData(nameof(AllFiles))]
    public void EveryNamedVolume_IsDeclared(string file)
    {
        var compose = Load(file);
        var named = compose.ServiceNames
            .Select(compose.Service)
            .Where(s => Has(s, "volumes"))
            .SelectMany(s => Sequence(s, "volumes"))
            .Select(v => v.Split(':')[0])
            .Where(source => !source.StartsWith('.') && !source.StartsWith('/'));

        compose.VolumeNames.Should().BeEquivalentTo(named.Distinct());
    }

    [Fact]
    public void SameStack_OllamaExposedOnly_CorralReachesItByName_OpenWebUiPointsAtCorral()
    {
        var compose = Load("compose.same-stack.yaml");

        compose.ServiceNames.Should().BeEquivalentTo("ollama", "corral", "open-webui");
        var ollama = compose.Service("ollama");
        Sequence(ollama, "expose").Should().Equal("11434");
        Has(ollama, "ports").Should().BeFalse("only Corral's keys stand between clients and Ollama");
        Sequence(ollama, "volumes").Should().Equal("ollama:/root/.ollama");

        ComposeFile.Environment(compose.Service("corral"), "OLLAMA_BASE_URL").Should().Be("http://ollama:11434");

        var webui = compose.Service("open-webui");
        ComposeFile.Environment(webui, "OLLAMA_BASE_URL").Should().Be("http://corral:11480");
        ComposeFile.Environment(webui, "OLLAMA_API_CONFIGS").Should().Be("{\"0\":{\"key\":\"${CORRAL_ADMIN_KEY}\"}}");
        Scalar(Mapping(Mapping(webui, "depends_on"), "corral"), "condition").Should().Be("service_healthy");
    }

    [Fact]
    public void HostOllama_ReachedThroughHostGateway_OllamaHostSaidHow()
    {
        var compose = Load("compose.host-ollama.yaml");
        var text = DeployFolder.Read("compose.host-ollama.yaml");

        compose.ServiceNames.Should().Equal("corral");
        var corral = compose.Service("corral");
        ComposeFile.Environment(corral, "OLLAMA_BASE_URLS").Should().Be("${OLLAMA_BASE_URLS:-http://host.docker.internal:11434}");
        Sequence(corral, "extra_hosts").Should().Equal("host.docker.internal:host-gateway");
        text.Should().Contain("Environment=\"OLLAMA_HOST=0.0.0.0\"").And.Contain("sudo systemctl edit ollama");
    }

    [Fact]
    public void PodmanWsl2_UsesTheWsl2Gateway_NotHostContainersInternal_AndSaysHowToFindIt()
    {
        var compose = Load("compose.podman-wsl2.yaml");
        var text = DeployFolder.Read("compose.podman-wsl2.yaml");

        var url = ComposeFile.Environment(compose.Service("corral"), "OLLAMA_BASE_URL");
        url.Should().StartWith("http://${WSL2_GATEWAY:?").And.EndWith("}:11434");
        url.Should().NotContain("host.containers.internal");
        Has(compose.Service("corral"), "extra_hosts").Should().BeFalse();
        text.Should().Contain("podman machine ssh <machine> ip route show default").And.Contain("169.254.1.2").And.Contain("corral doctor");
    }

    [Fact]
    public void Replicas_TwoCorralsOnPostgres_BehindNginx()
    {
        var compose = Load("compose.yaml");

        compose.ServiceNames.Should().BeEquivalentTo("postgres", "corral", "nginx");
        Sequence(Mapping(compose.Service("postgres"), "healthcheck"), "test").Should().Equal("CMD", "pg_isready", "-U", "corral", "-d", "corral");
        var corral = compose.Service("corral");
        Scalar(Mapping(corral, "deploy"), "replicas").Should().Be("2");
        ComposeFile.Environment(corral, "CORRAL_DATABASE").Should().StartWith("Host=postgres;");
        Scalar(Mapping(Mapping(corral, "depends_on"), "postgres"), "condition").Should().Be("service_healthy");
        Sequence(corral, "extra_hosts").Should().Equal("host.docker.internal:host-gateway");
        var nginx = compose.Service("nginx");
        Sequence(nginx, "ports").Should().Equal("11480:11480");
        Sequence(nginx, "volumes").Should().Equal("./nginx.conf:/etc/nginx/nginx.conf:ro");
        File.Exists(Path.Combine(DeployFolder.Path, "nginx.conf")).Should().BeTrue();
    }
}
