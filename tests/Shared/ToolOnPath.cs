using System.Diagnostics;

namespace Corral.Testing;

/// <summary>Finds a program on PATH, for the tests that run a tool someone else wrote (promtool, nginx, systemd-analyze).</summary>
internal static class ToolOnPath
{
    /// <summary>The full path of <paramref name="name"/> in the first PATH folder that has it; null when none does.</summary>
    public static string? Find(string name)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs <paramref name="path"/> to its end (30 s at most): its exit code, and its standard output and error together.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string path, params string[] arguments)
    {
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output + await error);
    }
}
