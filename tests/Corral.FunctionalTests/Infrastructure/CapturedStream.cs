using System.Text;
using System.Text.Json;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>A write-only stream that keeps what is written to it, readable from another thread (a request log's output).</summary>
internal sealed class CapturedStream : Stream
{
    private readonly MemoryStream _bytes = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Everything written so far, as UTF-8 text.</summary>
    public string Text
    {
        get
        {
            lock (_bytes)
            {
                return Encoding.UTF8.GetString(_bytes.GetBuffer(), 0, (int)_bytes.Length);
            }
        }
    }

    /// <summary>The complete lines written so far, each parsed as JSON.</summary>
    public JsonElement[] JsonLines()
    {
        var text = Text;
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return complete.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.Clone();
        }).ToArray();
    }

    /// <summary>Waits until at least <paramref name="count"/> lines were written.</summary>
    public async Task<JsonElement[]> WaitForLinesAsync(int count)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var lines = JsonLines();
            if (lines.Length >= count)
            {
                return lines;
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"{lines.Length} of {count} lines were written within 10 s:\n{Text}");
            }

            await Task.Delay(10, CancellationToken.None);
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_bytes)
        {
            _bytes.Write(buffer);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
