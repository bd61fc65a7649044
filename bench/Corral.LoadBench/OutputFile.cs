namespace Corral.LoadBench;

/// <summary>
/// The standard output and error of a Corral that writes them to a file rather than to a pipe the benchmark
/// reads (see <see cref="CorralProcess.StartAsync"/>). Each <see cref="Sweep"/> reads what was written since the
/// last one: the request log's JSON lines are counted, log lines of level warning and above are kept, and the file
/// is emptied, so that a long run at tens of thousands of lines a second neither fills the disk nor makes a later
/// sweep read gigabytes. Sweep between runs, while Corral is idle: a line written during a sweep may be cut.
/// </summary>
internal sealed class OutputFile(string path)
{
    private const int Kept = 100;
    private readonly Queue<string> _lines = new();

    public string Path { get; } = path;

    /// <summary>JSON lines (the request log, one per request) seen so far.</summary>
    public long RequestLogLines { get; private set; }

    /// <summary>Log lines of level warning and above seen so far.</summary>
    public int Problems { get; private set; }

    /// <summary>The last of them, if any.</summary>
    public string? LastProblem { get; private set; }

    /// <summary>The last lines that were not request log lines (start-up banner, log lines), for error messages.</summary>
    public string Tail => string.Join('\n', _lines);

    public void Sweep()
    {
        if (!File.Exists(Path))
        {
            return;
        }

        using var stream = new FileStream(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        using (var reader = new StreamReader(stream, leaveOpen: true))
        {
            while (reader.ReadLine() is { } line)
            {
                Classify(line);
            }
        }

        // Corral's output was opened with O_APPEND (>>): its next write goes to the start of the emptied file, not
        // past the old end (which would leave a hole as large as everything read so far).
        stream.SetLength(0);
    }

    private void Classify(string line)
    {
        if (line.StartsWith('{'))
        {
            RequestLogLines++;
            return;
        }

        if (CorralProcess.IsProblem(line))
        {
            Problems++;
            LastProblem = line;
        }

        _lines.Enqueue(line);
        if (_lines.Count > Kept)
        {
            _lines.Dequeue();
        }
    }
}
