using System.ComponentModel;
using System.Diagnostics;
using Corral.Hosting;

namespace Corral.Doctor;

/// <summary>A container engine's command-line tool, <c>docker</c> or <c>podman</c>, as found on PATH.</summary>
internal sealed record ContainerTool(string Name, string Path)
{
    /// <summary>The tools looked for, in the order they are tried.</summary>
    public static readonly IReadOnlyList<string> Names = ["docker", "podman"];

    /// <summary>Each of <see cref="Names"/> that <paramref name="path"/> (a PATH value) holds, the first of each.</summary>
    public static IReadOnlyList<ContainerTool> Find(string? path)
    {
        var folders = (path ?? string.Empty).Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return Names
            .Select(name => folders.Select(f => System.IO.Path.Combine(f, name)).FirstOrDefault(File.Exists) is { } full ? new ContainerTool(name, full) : null)
            .OfType<ContainerTool>()
            .ToArray();
    }

    /// <summary>
    /// Runs the tool with <paramref name="arguments"/> and what it printed; when it takes longer than
    /// <paramref name="deadline"/> it is ended, with exit code -1.
    /// </summary>
    public async Task<ToolResult> RunAsync(IEnumerable<string> arguments, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new Win32Exception("no process");
        }
        catch (Win32Exception e)
        {
            return new ToolResult(-1, string.Empty, $"{Path} could not be run: {e.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(deadline);
            try
            {
                await process.WaitForExitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                cancellationToken.ThrowIfCancellationRequested();
                return new ToolResult(-1, await output, $"{Name} gave no answer within {Durations.Seconds(deadline)} s");
            }

            return new ToolResult(process.ExitCode, await output, await error);
        }
    }
}

/// <summary>How a run of a container tool ended: its exit code and what it wrote to stdout and stderr.</summary>
internal sealed record ToolResult(int ExitCode, string Output, string Error)
{
    /// <summary>The first line of stderr that says something (a tool's one-line error), or the exit code.</summary>
    public string Problem => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? $"exit code {ExitCode}";
}
