using System.Runtime.InteropServices;

namespace Corral.LoadBench;

/// <summary>Describes the machine and the tools, for the results header.</summary>
internal static class MachineInfo
{
    public static MachineDescription Collect(string repositoryRoot) => new(
        Environment.ProcessorCount,
        ProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        MemTotal(),
        OsRelease(),
        ReadOrEmpty("/proc/sys/kernel/osrelease"),
        RuntimeInformation.FrameworkDescription,
        Nginx.Version(),
        Wrk.Version(),
        Commit(repositoryRoot),
        LoadAverage(),
        string.Empty,
        OpenFilesLimit());

    /// <summary>The first three fields of /proc/loadavg.</summary>
    public static string LoadAverage() => string.Join(' ', ReadOrEmpty("/proc/loadavg").Split(' ').Take(3));

    /// <summary>Soft and hard limit of open files of this process (Corral inherits it).</summary>
    public static string OpenFilesLimit()
    {
        var line = File.Exists("/proc/self/limits")
            ? File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            : null;
        var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: >= 2 } ? $"{fields[0]} (hard {fields[1]})" : "unknown";
    }

    private static string Commit(string repositoryRoot)
    {
        try
        {
            var head = Tools.Run("git", "-C", repositoryRoot, "rev-parse", "--short", "HEAD").Trim();
            var dirty = Tools.Run("git", "-C", repositoryRoot, "status", "--porcelain", "--", "src").Trim();
            return dirty.Length > 0 ? head + " with uncommitted changes in src/" : head;
        }
        catch (BenchmarkException)
        {
            return "unknown (git not found)";
        }
    }

    private static string MemTotal()
    {
        var kilobytes = ProcField("/proc/meminfo", "MemTotal")?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return long.TryParse(kilobytes, out var value) ? $"{value / 1024.0 / 1024.0:0.0} GiB" : "unknown";
    }

    private static string OsRelease()
    {
        var line = File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
            : null;
        return line?["PRETTY_NAME=".Length..].Trim('"') ?? RuntimeInformation.OSDescription;
    }

    private static string? ProcField(string file, string name)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        return line?[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static string ReadOrEmpty(string file) => File.Exists(file) ? File.ReadAllText(file).Trim() : string.Empty;
}
