using System.Globalization;

namespace Corral.LoadBench;

/// <summary>
/// CPU time and context switches of a set of processes, from /proc (Linux), as a difference between two readings.
/// Unlike perf it needs no permission, and it splits what perf's task-clock and context-switches cannot: time in
/// user space against time in the kernel, and switches a thread asked for (blocked in epoll_wait or a futex) against
/// switches it suffered (preempted by another process on the shared cores).
/// </summary>
/// <param name="UserSeconds">utime of /proc/PID/stat, every thread, exited ones included; sampled at the clock tick.</param>
/// <param name="SystemSeconds">stime, the same way.</param>
/// <param name="Voluntary">voluntary_ctxt_switches of /proc/PID/task/*/status, summed over the live threads.</param>
/// <param name="Involuntary">nonvoluntary_ctxt_switches, the same way.</param>
internal sealed record ProcessTimes(double UserSeconds, double SystemSeconds, long Voluntary, long Involuntary)
{
    private static readonly Lazy<double> s_ticksPerSecond = new(() =>
        double.TryParse(Tools.Run("getconf", "CLK_TCK").Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100);

    public static ProcessTimes Read(IEnumerable<int> pids)
    {
        var total = new ProcessTimes(0, 0, 0, 0);
        foreach (var pid in pids)
        {
            total += ReadOne(pid);
        }

        return total;
    }

    public static ProcessTimes operator +(ProcessTimes a, ProcessTimes b) =>
        new(a.UserSeconds + b.UserSeconds, a.SystemSeconds + b.SystemSeconds, a.Voluntary + b.Voluntary, a.Involuntary + b.Involuntary);

    // Whole clock ticks in seconds: rounded, so that the JSON shows 2.15 and not 2.1499999999999986.
    public static ProcessTimes operator -(ProcessTimes a, ProcessTimes b) =>
        new(Math.Round(a.UserSeconds - b.UserSeconds, 6), Math.Round(a.SystemSeconds - b.SystemSeconds, 6), a.Voluntary - b.Voluntary, a.Involuntary - b.Involuntary);

    private static ProcessTimes ReadOne(int pid)
    {
        var folder = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}";
        string stat;
        try
        {
            stat = File.ReadAllText(folder + "/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process is gone: what it did no longer shows.
            return new ProcessTimes(0, 0, 0, 0);
        }

        // Fields after the command (which may hold spaces and parentheses): state is the 3rd, utime the 14th, stime the 15th.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = s_ticksPerSecond.Value;
        long voluntary = 0, involuntary = 0;
        foreach (var task in Directory.EnumerateDirectories(folder + "/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(task + "/status"))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        voluntary += Count(line);
                    }
                    else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        involuntary += Count(line);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A thread that ended since the folder was listed.
            }
        }

        return new ProcessTimes(
            long.Parse(fields[11], CultureInfo.InvariantCulture) / ticks,
            long.Parse(fields[12], CultureInfo.InvariantCulture) / ticks,
            voluntary,
            involuntary);
    }

    private static long Count(string line) => long.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);
}
