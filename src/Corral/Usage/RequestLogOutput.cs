namespace Corral.Usage;

/// <summary>
/// Where the request log's batches of lines go: standard output, which the console logger shares, or a stream of
/// the caller's (<c>CorralSettings.RequestLogStream</c>, for tests).
/// </summary>
/// <remarks>
/// On standard output a batch is written while holding the lock of <see cref="Console.Out"/>. The console logger
/// writes each of its lines with one <c>Console.Out.Write</c>, and <c>Console.Out</c>'s synchronised writer locks on
/// itself so that other writers can share that lock (dotnet/runtime does so on purpose, see its SyncTextWriter);
/// it flushes every write, so nothing of a log line is pending while the lock is held. Pipe atomicity alone would
/// not do: Console.Out hands a line longer than its 256-character buffer to the pipe in several writes, and a
/// batch written in between would land inside that line. Batches are whole lines, written in one call
/// once they reach <see cref="MaxBatchBytes"/> (or at the end of a drain): 64 KB rather than a pipe's atomic
/// 4 KB (PIPE_BUF), because within Corral the lock already keeps writers apart, Corral is the only writer of its
/// output wherever it runs as a service (a terminal, journald, a container's log), and a write a sixteenth as often
/// saves about 0.2 µs a line (bench/README.md).
/// </remarks>
internal sealed class RequestLogOutput
{
    /// <summary>The size at which a batch of whole lines is written (it exceeds it by at most its last line).</summary>
    public const int MaxBatchBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly object? _gate;

    /// <summary>Writes to <paramref name="stream"/>, holding <paramref name="gate"/> (if any), the lock other writers of the same stream hold while they write.</summary>
    public RequestLogOutput(Stream stream, object? gate)
    {
        _stream = stream;
        _gate = gate;
    }

    /// <summary>Standard output, shared with the console logger through Console.Out's lock.</summary>
    public static RequestLogOutput StandardOutput() => new(Console.OpenStandardOutput(), Console.Out);

    /// <summary>Writes whole lines in one call and flushes them. May block (a slow pipe); call it from the log's own thread.</summary>
    public void Write(ReadOnlySpan<byte> lines)
    {
        if (_gate is null)
        {
            _stream.Write(lines);
            _stream.Flush();
            return;
        }

        lock (_gate)
        {
            _stream.Write(lines);
            _stream.Flush();
        }
    }
}
