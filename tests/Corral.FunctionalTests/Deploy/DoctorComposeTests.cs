using Corral.Cli;
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
        var expected = string.Join("\n", ComposeTopologies.Files.Select(f => $"# ==== deploy/{f.File}: {f.Topology} ====\n{DeployFolder.Read(f.File)}"));
        ComposeTopologies.Files.Should().HaveCount(3);
        output.Should().Be(expected);
    }
}
