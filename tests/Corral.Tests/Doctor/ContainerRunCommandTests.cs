using Corral.Doctor;

namespace Corral.Tests.Doctor;

public sealed class ContainerRunCommandTests
{
    [Theory]
    [InlineData("open-webui", "open-webui")]
    [InlineData("OLLAMA_BASE_URL=http://host.docker.internal:11434", "OLLAMA_BASE_URL=http://host.docker.internal:11434")]
    [InlineData("KEY=two words", "'KEY=two words'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$HOME", "'$HOME'")]
    [InlineData("", "''")]
    public void Quote_PlainWordsAsThey_AreElseInSingleQuotes(string word, string quoted) => ContainerRunCommand.Quote(word).Should().Be(quoted);

    [Fact]
    public void Parse_DockerInspect_PortsMountsRestartNetwork_AndTheRunCommandKeepsThem()
    {
        const string Inspect = """
            [{"Name":"/open-webui","State":{"Status":"running","Running":true},
              "Config":{"Image":"ghcr.io/open-webui/open-webui:main","Env":["A=1"],"Cmd":["bash","start.sh"]},
              "HostConfig":{"NetworkMode":"ai","RestartPolicy":{"Name":"on-failure","MaximumRetryCount":3},"ExtraHosts":["nas:192.168.1.5"],
                "PortBindings":{"8080/tcp":[{"HostIp":"127.0.0.1","HostPort":"3000"}],"53/udp":[{"HostIp":"","HostPort":"5353"}]}},
              "Mounts":[{"Type":"bind","Source":"/srv/data","Destination":"/data","RW":false},{"Type":"volume","Name":"cache","Source":"/var/lib/docker/volumes/cache/_data","Destination":"/cache","RW":true}]}]
            """;

        var container = ContainerInspection.Parse(Inspect)!;
        var commands = ContainerRunCommand.Recreate("docker", container, container.Env, addHost: false, []);

        container.Name.Should().Be("open-webui");
        commands[1].Should().Be("docker run -d --name open-webui --restart on-failure:3 --network ai --add-host nas:192.168.1.5 -p 127.0.0.1:3000:8080 -p 5353:53/udp "
            + "-v /srv/data:/data:ro -v cache:/cache -e A=1 ghcr.io/open-webui/open-webui:main");
    }

    [Fact]
    public void Parse_NotAContainer_IsNull()
    {
        ContainerInspection.Parse("[]").Should().BeNull();
        ContainerInspection.Parse("Error: No such container").Should().BeNull();
    }

    [Fact]
    public void PerplexicaApiUrl_IsTheOllamaSections_NotAnotherSections()
    {
        const string Toml = """
            [MODELS.CUSTOM_OPENAI]
            API_URL = "http://elsewhere:8000"

            [MODELS.OLLAMA]
            API_URL = "http://host.docker.internal:11434" # Ollama API URL

            [API_ENDPOINTS]
            SEARXNG = "http://searxng:8080"
            """;

        PerplexicaConfig.ApiUrl(Toml).Should().Be("http://host.docker.internal:11434");
        PerplexicaConfig.ApiUrl("[MODELS.OLLAMA]\nAPI_URL = \"\"\n").Should().BeNull();
    }

    [Fact]
    public void PerplexicaFind_AFolderMountHoldingConfigToml()
    {
        var folder = Directory.CreateTempSubdirectory("corral-perplexica-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "config.toml"), "[MODELS.OLLAMA]\n");

            PerplexicaConfig.Find([new ContainerMount("bind", null, folder, "/home/perplexica/data", true)]).Should().Be(Path.Combine(folder, "config.toml"));
            PerplexicaConfig.Find([new ContainerMount("bind", null, Path.Combine(folder, "absent"), "/home/perplexica/config.toml", true)]).Should().BeNull();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void RouteGateway_FromIpRouteShowDefault()
    {
        ContainerDoctor.RouteGateway("default via 172.29.160.1 dev eth0 proto kernel \n").Should().Be("172.29.160.1");
        ContainerDoctor.RouteGateway("172.29.160.0/20 dev eth0 proto kernel scope link src 172.29.170.2\n").Should().BeNull();
    }
}
