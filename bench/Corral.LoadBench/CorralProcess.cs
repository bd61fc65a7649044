using System.Globalization;

namespace Corral.LoadBench;

/// <summary>A published Corral running as its own process, with authentication on, as a user runs it.</summary>
internal sealed class CorralProcess : IDisposable
{
    private readonly ChildProcess _process;
    private readonly OutputFile? _outputFile;

    private CorralProcess(ChildProcess process, OutputFile? outputFile, Uri baseAddress)
    {
        _process = process;
        _outputFile = outputFile;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    /// <summary>
    /// Publishes src/Corral in Release into <paramref name="directory"/>, with its own build folders
    /// (<c>--artifacts-path</c>) so that it never races a build of the repository running at the same time.
    /// <paramref name="name"/> names the folders (several publishes side by side), <paramref name="properties"/> are
    /// further arguments of <c>dotnet publish</c>.
    /// </summary>
    public static string Publish(string repositoryRoot, string directory, string name = "corral", params string[] properties)
    {
        var output = Path.Combine(directory, name + "-publish");
        var project = Path.Combine(repositoryRoot, "src", "Corral", "Corral.csproj");
        Console.WriteLine($"Publishing {project} (Release{string.Concat(properties.Select(p => " " + p))}) ...");
        using var publish = ChildProcess.Start("dotnet publish", "dotnet",
            ["publish", project, "-c", "Release", "-o", output, "--artifacts-path", Path.Combine(directory, name + "-build"), "--nologo", .. properties]);
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

    /// <summary>
    /// Starts <c>corral serve</c> and waits until it answers /healthz. With <paramref name="outputToFile"/> its standard
    /// output and error go to <c>NAME.log</c> in <paramref name="workDirectory"/> instead of to a pipe this process
    /// reads: Corral's request log writes one JSON line per request there, and reading 50k lines a second through a
    /// pipe would take CPU from the shared cores and have it charged to Corral.
    /// </summary>
    public static async Task<CorralProcess> StartAsync(string executable, string name, string workDirectory, string adminKey, IEnumerable<string> arguments, bool outputToFile = false)
    {
        var port = Loopback.FreePort();
        var data = Path.Combine(workDirectory, "data-" + name);
        Directory.CreateDirectory(data);
        var url = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        string[] command =
        [
            // The fake backends take any number of requests at once: Corral's default of one per model would queue them.
            executable, "serve", "--listen", url, "--admin-key", adminKey, "--data", data, "--log-level", "warning", "--max-concurrency", "0", .. arguments,
        ];
        var outputFile = outputToFile ? new OutputFile(Path.Combine(workDirectory, name + ".log")) : null;
        var process = outputFile is null
            ? ChildProcess.Start("corral " + name, command[0], command[1..])
            // The shell points the output at the file and then becomes Corral (exec): the process id is Corral's own,
            // for perf and /proc, and killing it kills Corral. Output is opened for appending, so the file can be emptied.
            : ChildProcess.Start("corral " + name, "/bin/sh", ["-c", "log=$1; shift; exec \"$@\" >>\"$log\" 2>&1", "sh", outputFile.Path, .. command]);
        try
        {
            await Loopback.WaitUntilServingAsync(url + "/healthz", process, TimeSpan.FromSeconds(60));
        }
        catch (BenchmarkException e) when (outputFile is not null)
        {
            process.Dispose();
            outputFile.Sweep();
            throw new BenchmarkException($"{e.Message}\n{outputFile.Tail}", e);
        }
        catch
        {
            process.Dispose();
            throw;
        }

        return new CorralProcess(process, outputFile, new Uri(url));
    }

    /// <summary>What <c>corral --version</c> prints, e.g. <c>1.0.0+a97094db…</c> (the commit it was built from).</summary>
    public static string Version(string executable) => Tools.Run(executable, "--version").Trim();

    /// <summary>Whether a line Corral logged is of level warning or above (the console format is <c>HH:mm:ss warn: …</c>).</summary>
    public static bool IsProblem(string line) =>
        line.Contains(" warn: ", StringComparison.Ordinal) || line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal)
        || line.StartsWith("Unhandled exception", StringComparison.Ordinal);

    /// <summary>Resident and peak resident memory in bytes (VmRSS, VmHWM of /proc/PID/status).</summary>
    public (long Rss, long Peak) Memory() => ProcessMemory.Read(_process.Id);

    /// <summary>
    /// Reads what Corral wrote to its output file since the last call and empties the file (see <see cref="OutputFile"/>);
    /// nothing when its output goes to a pipe. Call it between runs, while Corral is idle.
    /// </summary>
    public void SweepOutput() => _outputFile?.Sweep();

    /// <summary>Request log lines (JSON) written so far; null when its output goes to a pipe (not counted).</summary>
    public long? RequestLogLines => _outputFile?.RequestLogLines;

    /// <summary>Lines logged at warning and above so far (of the last 100 lines in pipe mode), and the last of them.</summary>
    public (int Count, string? Last) Problems()
    {
        if (_outputFile is { } file)
        {
            file.Sweep();
            return (file.Problems, file.LastProblem);
        }

        var problems = _process.Output.Split('\n').Where(IsProblem).ToArray();
        return (problems.Length, problems.LastOrDefault());
    }

    public void Dispose() => _process.Dispose();
}
