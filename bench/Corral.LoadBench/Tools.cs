using System.Diagnostics;

namespace Corral.LoadBench;

/// <summary>Runs a short external command and returns what it printed.</summary>
internal static class Tools
{
    /// <summary>stdout and stderr together; throws if the program is not installed.</summary>
    public static string Run(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return output + error.GetAwaiter().GetResult();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BenchmarkException($"'{fileName}' is not installed or not on PATH ({e.Message}). On Debian: apt-get install nginx-light wrk", e);
        }
    }

    /// <summary>Whether <paramref name="fileName"/> can be started.</summary>
    public static bool Exists(string fileName)
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(folder, fileName)))
            {
                return true;
            }
        }

        return false;
    }
}
