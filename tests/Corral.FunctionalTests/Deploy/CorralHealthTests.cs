using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Deploy;

/// <summary><c>corral health</c>, the Docker image's health check, against a running Corral and a port where none listens.</summary>
public sealed class CorralHealthTests
{
    [Fact]
    public async Task RunningCorral_ExitsZero_WithOneLineOnStandardError()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "a")]);

        var (exitCode, output, error) = await CorralCli.RunAsync(["health", "--url", corral.BaseAddress.ToString()]);

        exitCode.Should().Be(0, error);
        error.Should().Be($"healthy: {new Uri(corral.BaseAddress, "/healthz")} answered 200{Environment.NewLine}");
        output.Should().BeEmpty();
    }

    [Fact]
    public async Task WithoutUrl_AsksTheAddressServeListensOn_EveryInterfaceOnLoopback()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "a")]);

        // As in the image: CORRAL_LISTEN says every interface; Corral listens on loopback among them.
        var (exitCode, _, error) = await CorralCli.RunAsync(["health"], new Dictionary<string, string> { ["CORRAL_LISTEN"] = $"http://0.0.0.0:{corral.BaseAddress.Port}" });

        exitCode.Should().Be(0, error);
        error.Should().StartWith($"healthy: http://127.0.0.1:{corral.BaseAddress.Port}/healthz");
    }

    [Fact]
    public async Task ClosedPort_ExitsOne_SayingSo()
    {
        var port = Ports.Free();

        var (exitCode, output, error) = await CorralCli.RunAsync(["health", "--url", $"http://127.0.0.1:{port}"]);

        exitCode.Should().Be(1);
        error.Should().StartWith($"unhealthy: http://127.0.0.1:{port}/healthz: ").And.Contain("refused");
        error.TrimEnd().Should().NotContain("\n", "one line");
        output.Should().BeEmpty();
    }
}
