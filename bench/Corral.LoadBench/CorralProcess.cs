using System.Globalization;

namespace Corral.LoadBench;

/// <summary>A published Corral running as its own process, with authentication on, as a user runs it.</summary>
internal sealed class CorralProcess : IDisposable
{
    private readonly ChildProcess _process;

    private CorralProcess(ChildProcess process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    /// <summary>
    /// Publishes src/Corral in Release into <paramref name="directory"/>, with its own build folders
    /// (<c>--artifacts-path</c>) so that it never races a build of the repository running at the same time.
    /// </summary>
    public static string Publish(string repositoryRoot, string directory)
    {
        var output = Path.Combine(directory, "corral-publish");
        var project = Path.Combine(repositoryRoot, "src", "Corral", "Corral.csproj");
        Console.WriteLine($"Publishing {project} (Release) ...");
        using var publish = ChildProcess.Start("dotnet publish", "dotnet",
            ["publish", project, "-c", "Release", "-o", output, "--artifacts-path", Path.Combine(directory, "corral-build"), "--nologo"]);
        while (!publish.HasExited)
        {
            Thread.Sleep(100);
        }

        Thread.Sleep(100);
        var executable = Path.Combine(output, "corral");
        if (!File.Exists(executable))
        {
            throw new BenchmarkException($"dotnet publish of src/Corral failed:\n{publish.Output}");
        }

        return executable;
    }

    /// <summary>Starts <c>corral serve</c> and waits until it answers /healthz.</summary>
    public static async Task<CorralProcess> StartAsync(string executable, string name, string workDirectory, string adminKey, IEnumerable<string> arguments)
    {
        var port = Loopback.FreePort();
        var data = Path.Combine(workDirectory, "data-" + name);
        Directory.CreateDirectory(data);
        var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        var process = ChildProcess.Start("corral " + name, executable,
        [
            // The fake backends take any number of requests at once: Corral's default of one per model would queue them.
            "serve", "--listen", url, "--admin-key", adminKey, "--data", data, "--log-level", "warning", "--max-concurrency", "0", .. arguments,
        ]);
        try
        {
            await Loopback.WaitUntilServingAsync(url + "/healthz", process, TimeSpan.FromSeconds(60));
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return new CorralProcess(process, new Uri(url));
    }

    /// <summary>Resident and peak resident memory in bytes (VmRSS, VmHWM of /proc/PID/status).</summary>
    public (long Rss, long Peak) Memory() => ProcessMemory.Read(_process.Id);

    /// <summary>The last lines Corral logged (warnings and errors only: it runs with --log-level warning).</summary>
    public string Output => _process.Output;

    public void Dispose() => _process.Dispose();
}
