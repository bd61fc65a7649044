using Corral.Doctor;

namespace Corral.Tests.Doctor;

public sealed class OllamaDiscoveryTests
{
    private static readonly DoctorEnvironment s_container = new(Docker: true, Podman: false, Wsl: false, Kubernetes: false, DefaultGateway: "172.18.0.1");

    [Theory]
    [InlineData("0.0.0.0", "http://127.0.0.1:11434")]
    [InlineData("0.0.0.0:8080", "http://127.0.0.1:8080")]
    [InlineData(":8080", "http://127.0.0.1:8080")]
    [InlineData("192.168.1.10", "http://192.168.1.10:11434")]
    [InlineData("http://gpu-box:11500", "http://gpu-box:11500")]
    [InlineData("[::]:11434", "http://127.0.0.1:11434")]
    [InlineData("", null)]
    public void OllamaHost_IsWhereAClientReachesTheOllamaItConfigures(string value, string? expected) =>
        OllamaDiscovery.OllamaHost(value).Should().Be(expected);

    [Fact]
    public void Candidates_GivenFirst_ThenOllamaHost_ThenTheUsualPlaces_OnBothPorts_WithoutTheFailingOrInUse()
    {
        var discovery = new OllamaDiscovery(s_container, TimeSpan.FromSeconds(1), v => v == "OLLAMA_HOST" ? "10.1.1.1:9000" : null);

        var candidates = discovery.Candidates(new Uri("http://127.0.0.1:8080"), given: ["http://gpu2:11434/"], inUse: ["http://host.docker.internal:8080"]);

        candidates.Take(2).Should().Equal("http://gpu2:11434", "http://10.1.1.1:9000");
        candidates.Should().Contain(["http://127.0.0.1:11434", "http://host.containers.internal:8080", "http://gateway.docker.internal:11434", "http://172.18.0.1:8080", "http://172.18.0.1:11434"]);
        candidates.Should().NotContain(["http://127.0.0.1:8080", "http://host.docker.internal:8080"]);
        candidates.Should().OnlyHaveUniqueItems();
    }
}
