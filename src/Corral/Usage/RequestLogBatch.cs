using System.Text.Json;

namespace Corral.Usage;

/// <summary>
/// Formats request log lines (<see cref="RequestLogLine"/>) into pooled buffers and hands them to the output in
/// batches of whole lines of at most <see cref="RequestLogOutput.MaxBatchBytes"/> (a longer line goes alone).
/// Used by one thread, the log's writer.
/// </summary>
internal sealed class RequestLogBatch : IDisposable
{
    private readonly RequestLogOutput _output;
    private readonly Action<int> _flushed;
    private readonly int _maxBatchBytes;
    private readonly PooledBuffer _line = new(1024);
    private readonly PooledBuffer _batch;
    private readonly Utf8JsonWriter _json;
    private readonly EncodedStrings _encoded = new();
    private int _lines;

    /// <param name="output">Where the batches go.</param>
    /// <param name="flushed">Called after each write with the number of lines it lost (0 when it succeeded).</param>
    /// <param name="maxBatchBytes">The most bytes of lines one write takes (benchmarks try other sizes).</param>
    public RequestLogBatch(RequestLogOutput output, Action<int> flushed, int maxBatchBytes = RequestLogOutput.MaxBatchBytes)
    {
        _output = output;
        _flushed = flushed;
        _maxBatchBytes = maxBatchBytes;
        _batch = new PooledBuffer(2 * maxBatchBytes);
        _json = new Utf8JsonWriter(_line, RequestLogLine.WriterOptions);
    }

    /// <summary>Adds the record's line, first writing the lines before it when the line would not fit.</summary>
    public void Add(UsageRecord record)
    {
        _line.Clear();
        _json.Reset(_line);
        RequestLogLine.Write(_json, record, _encoded);
        _line.Write("\n"u8);
        if (_batch.Count > 0 && _batch.Count + _line.Count > _maxBatchBytes)
        {
            Flush();
        }

        _batch.Write(_line.WrittenSpan);
        _lines++;
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
        _line.Dispose();
        _batch.Dispose();
    }
}
