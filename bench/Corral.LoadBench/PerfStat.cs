using System.Globalization;

namespace Corral.LoadBench;

/// <summary>One counter of <c>perf stat</c>: its name in the tables, the event, and an optional tracepoint filter with its meaning.</summary>
internal sealed record PerfCounter(string Name, string Event, string? Filter = null, string? FilterMeaning = null)
{
    /// <summary>How a table row names it (a filter's <c>||</c> would split a Markdown cell, so its meaning is shown).</summary>
    public string Label => FilterMeaning is null ? $"{Name} (`{Event}`)" : $"{Name} ({FilterMeaning})";
}

/// <summary>What one counter counted; null when perf printed <c>&lt;not counted&gt;</c> or <c>&lt;not supported&gt;</c>.</summary>
internal sealed record PerfCount(string Name, string Event, string? Filter, double? Value, string Unit);

/// <summary>
/// <c>perf stat -x,</c> attached to running processes (<c>-p PID,PID… -- sleep S</c>) with software events and
/// syscall tracepoints only: hardware counters (cycles, instructions) are not available on these VMs.
/// </summary>
internal sealed class PerfStat : IDisposable
{
    // FUTEX_WAKE is op 1 (129 with FUTEX_PRIVATE_FLAG); waits are FUTEX_WAIT (0) and FUTEX_WAIT_BITSET (9), with the
    // private flag (+128) and with FUTEX_CLOCK_REALTIME (+256). glibc's mutexes and condition variables, which the
    // .NET runtime's thread pool and monitors sleep on, use exactly these.
    private const string WakeOps = "op == 1 || op == 129";
    private const string WaitOps = "op == 0 || op == 128 || op == 9 || op == 137 || op == 265 || op == 393";

    /// <summary>The counters as the tables show them; the task-clock is in milliseconds.</summary>
    public static IReadOnlyList<PerfCounter> Counters { get; } =
    [
        new("CPU time", "task-clock"),
        new("context switches", "context-switches"),
        new("CPU migrations", "cpu-migrations"),
        new("syscalls", "raw_syscalls:sys_enter"),
        new("futex", "syscalls:sys_enter_futex"),
        new("futex wake", "syscalls:sys_enter_futex", WakeOps, "FUTEX_WAKE: op 1 or 129"),
        new("futex wait", "syscalls:sys_enter_futex", WaitOps, "FUTEX_WAIT and WAIT_BITSET: op 0, 9, 128, 137, 265, 393"),
        new("sendto", "syscalls:sys_enter_sendto"),
        // nginx sends with writev, .NET with sendto: both, so the sends compare.
        new("writev", "syscalls:sys_enter_writev"),
        new("recvfrom", "syscalls:sys_enter_recvfrom"),
        // A receive tried before the data is there costs a syscall for nothing, and then a second one after epoll.
        new("recvfrom EAGAIN", "syscalls:sys_exit_recvfrom", "ret == -11", "returned EAGAIN: nothing to read yet"),
        new("epoll_wait", "syscalls:sys_enter_epoll_wait"),
        new("epoll_ctl", "syscalls:sys_enter_epoll_ctl"),
    ];

    // perf prints the counts in the order of the events on its command line: the unfiltered ones, then the filtered.
    private static readonly PerfCounter[] s_printed = [.. Counters.Where(c => c.Filter is null), .. Counters.Where(c => c.Filter is not null)];

    private readonly ChildProcess _perf;
    private readonly string _output;

    private PerfStat(ChildProcess perf, string output)
    {
        _perf = perf;
        _output = output;
    }

    /// <summary>
    /// Why perf cannot be used here (not installed, an event refused), or null: a second of <c>sleep</c> counted with
    /// every counter.
    /// </summary>
    public static async Task<string?> ProblemAsync(string directory)
    {
        if (!Tools.Exists("perf"))
        {
            return "perf is not installed (Debian: apt-get install linux-perf)";
        }

        using var probe = Start("probe", [], 1, directory);
        try
        {
            var counts = await probe.WaitAsync();
            var missing = counts.Where(c => c.Value is null).Select(c => c.Filter is null ? c.Event : $"{c.Event} --filter '{c.Filter}'").ToArray();
            return missing.Length == 0 ? null : "perf did not count " + string.Join(", ", missing);
        }
        catch (BenchmarkException e)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Starts counting the processes <paramref name="pids"/> for <paramref name="seconds"/> (no process: counts
    /// <c>sleep</c> itself, as a probe). perf aggregates over all their threads, new ones included.
    /// </summary>
    public static PerfStat Start(string name, IReadOnlyList<int> pids, int seconds, string directory)
    {
        var output = Path.Combine(directory, $"perf-{name}.csv");
        List<string> arguments = ["stat", "-x,", "-o", output];
        // perf 6.1 applies --filter to every event of the -e just before it, and refuses it on a software event:
        // the filtered tracepoints get an -e each.
        arguments.AddRange(["-e", string.Join(',', Counters.Where(c => c.Filter is null).Select(c => c.Event))]);
        foreach (var counter in s_printed.Where(c => c.Filter is not null))
        {
            arguments.AddRange(["-e", counter.Event, "--filter", counter.Filter!]);
        }

        if (pids.Count > 0)
        {
            arguments.AddRange(["-p", string.Join(',', pids)]);
        }

        arguments.AddRange(["--", "sleep", seconds.ToString(CultureInfo.InvariantCulture)]);
        return new PerfStat(ChildProcess.Start("perf " + name, "perf", arguments), output);
    }

    /// <summary>Waits for perf to end and reads its counts; throws when it printed none (refused, or a process gone).</summary>
    public async Task<IReadOnlyList<PerfCount>> WaitAsync()
    {
        while (!_perf.HasExited)
        {
            await Task.Delay(100);
        }

        // The output handlers may still be draining right after exit.
        await Task.Delay(50);
        var lines = File.Exists(_output)
            ? (await File.ReadAllLinesAsync(_output)).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray()
            : [];
        if (lines.Length != s_printed.Length)
        {
            throw new BenchmarkException($"perf stat printed {lines.Length} counts, not {s_printed.Length}: {string.Join(' ', lines)} {_perf.Output}".Trim());
        }

        // With -x, each line is value,unit,event,run time,percentage,…
        return [.. s_printed.Select((counter, i) =>
        {
            var fields = lines[i].Split(',');
            var value = double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : (double?)null;
            return new PerfCount(counter.Name, counter.Event, counter.Filter, value, fields.Length > 1 ? fields[1] : string.Empty);
        })];
    }

    public void Dispose() => _perf.Dispose();
}
