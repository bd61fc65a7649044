using System.Text.RegularExpressions;

namespace Corral.Tests.Deploy;

/// <summary>
/// <c>deploy/Dockerfile</c> read as its instructions (Docker cannot run here): what the README promises of the image.
/// </summary>
public sealed partial class DockerfileTests
{
    private static readonly IReadOnlyList<(string Instruction, string Arguments)> s_instructions = Instructions(DeployFolder.Read("Dockerfile"));

    [Fact]
    public void TwoStages_TheSdkPublishes_TheRuntimeImageRuns()
    {
        var stages = Arguments("FROM");

        stages.Should().Equal("mcr.microsoft.com/dotnet/sdk:10.0 AS build", "mcr.microsoft.com/dotnet/aspnet:10.0");
        Arguments("COPY").Should().Contain("--from=build /app .");
    }

    [Fact]
    public void Publish_IsReadyToRun_ForLinuxX64_WithoutNamingTheCrossgenPackage()
    {
        var publish = Arguments("RUN").Single(r => r.StartsWith("dotnet publish", StringComparison.Ordinal));

        publish.Should().Contain("src/Corral/Corral.csproj").And.Contain("-c Release").And.Contain("-r linux-x64").And.Contain("-p:PublishReadyToRun=true").And.Contain("-o /app");
        DeployFolder.Read("Dockerfile").Should().NotContainEquivalentOf("crossgen", "the SDK picks the crossgen package that matches it");
    }

    [Fact]
    public void RunsAsTheImagesUnprivilegedUser_ListeningOnEveryInterface_DataInAVolume()
    {
        Arguments("USER").Should().Equal("app");
        Index("USER").Should().BeLessThan(Index("ENTRYPOINT"));
        Arguments("ENV").Should().ContainSingle().Which.Should().Be("CORRAL_LISTEN=http://0.0.0.0:11480 CORRAL_DATA=/data");
        Arguments("VOLUME").Should().Equal("/data");
        Arguments("RUN").Should().Contain("mkdir -p /data && chown app /data");
        Arguments("EXPOSE").Should().Equal("11480");
    }

    [Fact]
    public void HealthCheck_IsCorralHealth_AndServeIsTheEntryPoint()
    {
        Arguments("HEALTHCHECK").Should().ContainSingle().Which.Should().EndWith("CMD [\"./corral\", \"health\"]");
        Arguments("ENTRYPOINT").Should().Equal("[\"./corral\", \"serve\"]");
        Arguments("STOPSIGNAL").Should().Equal("SIGTERM");
    }

    private static List<string> Arguments(string instruction) => [.. s_instructions.Where(i => i.Instruction == instruction).Select(i => i.Arguments)];

    private static int Index(string instruction) => s_instructions.ToList().FindIndex(i => i.Instruction == instruction);

    /// <summary>Each instruction with its arguments, comments left out and continued lines joined, as Docker reads them.</summary>
    private static List<(string, string)> Instructions(string text)
    {
        var lines = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
        var joined = string.Join("\n", lines).Replace("\\\n", " ", StringComparison.Ordinal);
        return [.. joined.Split('\n').Select(l => InstructionLine().Match(l)).Select(m => (m.Groups[1].Value, Spaces().Replace(m.Groups[2].Value, " ")))];
    }

    [GeneratedRegex(@"^([A-Z]+)\s+(.*)$")]
    private static partial Regex InstructionLine();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
