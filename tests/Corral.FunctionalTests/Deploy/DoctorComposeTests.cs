using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Deploy;

/// <summary><c>corral doctor --compose</c> prints the compose files of <c>deploy/</c>, each as the repository has it.</summary>
public sealed class DoctorComposeTests
{
    [Fact]
    public async Task Compose_PrintsEachTopologysFile_ExactlyAsDeployHasIt()
    {
        var (exitCode, output, error) = await CorralCli.RunAsync(["doctor", "--compose"]);

        exitCode.Should().Be(0, error);
        var expected = string.Join("\n", new[]
        {
            ("compose.same-stack.yaml", "Ollama, Corral and Open WebUI in one compose project"),
            ("compose.host-ollama.yaml", "Ollama on this host or in another compose project"),
            ("compose.podman-wsl2.yaml", "Podman on Windows (WSL2), Ollama on Windows"),
        }.Select(f => $"# ==== deploy/{f.Item1}: {f.Item2} ====\n{DeployFolder.Read(f.Item1)}"));
        output.Should().Be(expected);
    }
}
