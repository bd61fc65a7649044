using System.Collections.Concurrent;
using System.Diagnostics;

namespace Corral.LoadBench;

/// <summary>
/// A process the benchmark started (nginx, Corral): its output kept for error messages, and killed with its
/// children when disposed, when the benchmark ends, or on Ctrl+C / SIGTERM (see <see cref="KillAll"/>).
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private static readonly ConcurrentDictionary<int, ChildProcess> s_running = new();
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The last lines it wrote (stdout and stderr together).</summary>
    public string Output => string.Join('\n', _output);

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var child = new ChildProcess(name, process);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {fileName}");
        }

        s_running[process.Id] = child;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Kills every child still running; safe to call from a signal handler, and more than once.</summary>
    public static void KillAll()
    {
        foreach (var child in s_running.Values)
        {
            child.Dispose();
        }
    }

    public void Dispose()
    {
        s_running.TryRemove(_process.Id, out _);
        try
        {
            if (!_process.HasExited)
            {
                // nginx's workers are children of its master: the whole tree goes.
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 100)
        {
            _output.TryDequeue(out _);
        }
    }
}
