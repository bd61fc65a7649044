using System.Text.Json;

namespace Corral.Usage;

/// <summary>
/// Formats request log lines (<see cref="RequestLogLine"/>) straight into a pooled buffer and hands it to the output
/// in batches of whole lines, each batch written once it holds <see cref="RequestLogOutput.MaxBatchBytes"/> (so a
/// batch exceeds that by at most its last line). Used by one thread, the log's writer.
/// </summary>
internal sealed class RequestLogBatch : IDisposable
{
    private readonly RequestLogOutput _output;
    private readonly Action<int> _flushed;
    private readonly int _maxBatchBytes;
    private readonly PooledBuffer _batch;
    private readonly Utf8JsonWriter _json;
    private readonly EncodedStrings _encoded = new();
    private int _lines;

    /// <param name="output">Where the batches go.</param>
    /// <param name="flushed">Called after each write with the number of lines it lost (0 when it succeeded).</param>
    /// <param name="maxBatchBytes">The size at which a batch is written (benchmarks try other sizes).</param>
    public RequestLogBatch(RequestLogOutput output, Action<int> flushed, int maxBatchBytes = RequestLogOutput.MaxBatchBytes)
    {
        _output = output;
        _flushed = flushed;
        _maxBatchBytes = maxBatchBytes;
        _batch = new PooledBuffer(2 * maxBatchBytes);
        _json = new Utf8JsonWriter(_batch, RequestLogLine.WriterOptions);
    }

    /// <summary>Adds the record's line, then writes the batch if it is full.</summary>
    public void Add(UsageRecord record)
    {
        // Formatted in place, after the lines before it: no copy of the line.
        RequestLogLine.Write(_batch, _json, record, _encoded);
        _batch.Write("\n"u8);
        _lines++;
        if (_batch.Count >= _maxBatchBytes)
        {
            Flush();
        }
    }

    /// <summary>Writes the lines added since the last write, if any.</summary>
    public void Flush()
    {
        if (_lines == 0)
        {
            return;
        }

        var lost = 0;
        try
        {
            _output.Write(_batch.WrittenSpan);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            // Standard output closed or broken (its reader went away): these lines are lost.
            lost = _lines;
        }

        _batch.Clear();
        _lines = 0;
        _flushed(lost);
    }

    public void Dispose()
    {
        _json.Dispose();
        _batch.Dispose();
    }
}
