using Corral.Hosting;

namespace Corral.Tests.Deploy;

/// <summary><c>deploy/corral.service</c>, parsed, and checked by systemd's own <c>systemd-analyze verify</c> where it is installed.</summary>
public sealed class SystemdUnitTests
{
    private static readonly ILookup<string, string> s_service = Section(DeployFolder.Read("corral.service"), "Service");

    [Fact]
    public void RunsUnderItsOwnUser_WithItsDataInTheStateDirectory()
    {
        s_service["DynamicUser"].Should().Equal("yes");
        s_service["StateDirectory"].Should().Equal("corral");
        s_service["Environment"].Should().Contain("CORRAL_DATA=/var/lib/corral");
        s_service["ExecStart"].Should().ContainSingle().Which.Should().EndWith("/corral serve");
    }

    [Fact]
    public void Hardened_WithoutBreakingTheJit()
    {
        s_service["NoNewPrivileges"].Should().Equal("yes");
        s_service["ProtectSystem"].Should().Equal("strict");
        s_service["ProtectHome"].Should().Equal("yes");
        s_service["PrivateTmp"].Should().Equal("yes");
        s_service["RestrictAddressFamilies"].Should().ContainSingle().Which.Split(' ').Should().Contain(["AF_INET", "AF_INET6", "AF_UNIX"]);
        s_service["CapabilityBoundingSet"].Should().Equal(string.Empty);
        s_service["MemoryDenyWriteExecute"].Should().BeEmpty(".NET's JIT needs memory that is written and then executed");
    }

    [Fact]
    public void RestartsOnFailure_AndStopsAfterTheDrain()
    {
        s_service["Restart"].Should().Equal("on-failure");
        s_service["KillSignal"].Should().Equal("SIGTERM");
        var stop = s_service["TimeoutStopSec"].Single();
        stop.Should().EndWith("s");
        TimeSpan.FromSeconds(int.Parse(stop.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture))
            .Should().BeGreaterThan(new CorralSettings().DrainTimeout + TimeSpan.FromSeconds(5), "Kestrel waits the drain and 5 s more, then the usage records are written");
    }

    [SystemdAnalyzeFact]
    public async Task SystemdAnalyzeVerify_FindsNothingToSay()
    {
        // verify insists that ExecStart's program exists; Corral is not installed in /opt here, so a copy of the unit
        // starts /bin/true instead. Everything else is the file as deploy/ ships it.
        var folder = Directory.CreateTempSubdirectory("corral-unit-").FullName;
        try
        {
            var unit = Path.Combine(folder, "corral.service");
            var text = DeployFolder.Read("corral.service");
            text.Should().Contain("ExecStart=/opt/corral/corral serve");
            await File.WriteAllTextAsync(unit, text.Replace("ExecStart=/opt/corral/corral serve", "ExecStart=/bin/true serve", StringComparison.Ordinal));

            var (exitCode, output) = await ToolOnPath.RunAsync(SystemdAnalyzeFactAttribute.Path!, "verify", unit);

            exitCode.Should().Be(0, output);
            output.Trim().Should().BeEmpty("systemd-analyze verify exits 0 on unknown keys and bad values too, and only says so");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The keys of one section, each with its values in order (a key may be given more than once).</summary>
    private static ILookup<string, string> Section(string unit, string name)
    {
        var entries = new List<(string Key, string Value)>();
        string? section = null;
        foreach (var raw in unit.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith(';'))
            {
                continue;
            }

            if (line.StartsWith('['))
            {
                section = line.Trim('[', ']');
            }
            else if (section == name && line.IndexOf('=', StringComparison.Ordinal) is var equals and > 0)
            {
                entries.Add((line[..equals], line[(equals + 1)..]));
            }
        }

        return entries.ToLookup(e => e.Key, e => e.Value, StringComparer.Ordinal);
    }
}

/// <summary>A fact that needs <c>systemd-analyze</c>: reported as skipped, not passed, where it is not on PATH.</summary>
public sealed class SystemdAnalyzeFactAttribute : FactAttribute
{
    public static string? Path { get; } = ToolOnPath.Find("systemd-analyze");

    public SystemdAnalyzeFactAttribute()
    {
        if (Path is null)
        {
            Skip = "systemd-analyze is not on PATH (Debian package systemd).";
        }
    }
}
