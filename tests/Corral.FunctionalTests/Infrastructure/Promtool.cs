using System.Diagnostics;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>Prometheus's own checker of the exposition format, <c>promtool check metrics</c> (Debian package <c>prometheus</c>).</summary>
internal static class Promtool
{
    private static readonly Lazy<string?> s_path = new(() => ToolOnPath.Find("promtool"));

    /// <summary>The promtool on PATH, if there is one.</summary>
    public static string? Path => s_path.Value;

    /// <summary>Runs <c>promtool check metrics</c> on <paramref name="page"/> (given on stdin): its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string page)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException("promtool is not on PATH"), "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(page);
        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output + await error);
    }
}

/// <summary>A fact that needs promtool: reported as skipped, not passed, where promtool is not on PATH.</summary>
public sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (Promtool.Path is null)
        {
            Skip = "promtool is not on PATH; install it with 'apt-get install prometheus' (.ci/run does).";
        }
    }
}
