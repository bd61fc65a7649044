using System.Diagnostics;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>A <c>corral</c> command run to its end as its own process (<c>dotnet corral.dll …</c>, the build next to the tests).</summary>
internal static class CorralCli
{
    /// <summary>Runs <c>corral <paramref name="arguments"/></c> with <paramref name="environment"/> added (30 s at most).</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(string[] arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "corral.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // What this process was given must not decide what the command under test does.
        start.Environment.Remove("CORRAL_LISTEN");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start corral");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await error);
    }
}
