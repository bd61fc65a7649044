using System.Diagnostics;
using Corral.WebConsole;

namespace Corral.Tests.WebConsole;

/// <summary>The console's files: every one in wwwroot is in the assembly, and the vendored library is the locked package's.</summary>
public sealed class ConsoleFilesTests
{
    private static readonly string s_repository = Path.GetDirectoryName(Corral.Testing.DeployFolder.Path)!;
    private static readonly string s_wwwroot = Path.Combine(s_repository, "src", "Corral", "WebConsole", "wwwroot");

    [Fact]
    public void EveryFileOfWwwroot_IsServedFromTheAssembly_WithAKnownType()
    {
        var onDisk = Directory.EnumerateFiles(s_wwwroot, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(s_wwwroot, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToArray();
        var assets = new ConsoleAssets();

        assets.Paths.Order(StringComparer.Ordinal).Should().Equal(onDisk);
        onDisk.Should().Contain(["index.html", "js/app.js", "vendor/uPlot.esm.js"]);
        foreach (var path in onDisk)
        {
            var asset = assets.Find(path)!;
            asset.ContentType.Should().NotBe("application/octet-stream", $"{path} needs a content type, or browsers refuse it under nosniff");
            asset.Bytes.Should().Equal(File.ReadAllBytes(Path.Combine(s_wwwroot, path)));
        }
    }

    [VendorCheckFact]
    public async Task TheVendoredChartLibrary_IsTheLockedPackages_ByteForByte()
    {
        var info = new ProcessStartInfo("node", ["vendor.mjs", "--check"]) { WorkingDirectory = Path.Combine(s_repository, "ui"), RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        process.ExitCode.Should().Be(0, $"vendor.mjs --check said: {output}{error}");
        output.Should().Contain("files are current");
    }

    /// <summary>Needs node and <c>npm ci</c> run in ui/ (.ci/run does); skipped, not passed, otherwise.</summary>
    public sealed class VendorCheckFactAttribute : FactAttribute
    {
        public VendorCheckFactAttribute()
        {
            var onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "node")));
            if (!onPath)
            {
                Skip = "node is not on PATH";
            }
            else if (!Directory.Exists(Path.Combine(s_repository, "ui", "node_modules", "uplot")))
            {
                Skip = "ui/node_modules is missing: run `npm ci` in ui/ (.ci/run does)";
            }
        }
    }
}
