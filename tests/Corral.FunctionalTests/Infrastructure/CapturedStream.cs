using System.Text;
using System.Text.Json;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>A write-only stream that keeps what is written to it, readable from another thread (a request log's output).</summary>
internal sealed class CapturedStream : WriteOnlyStream
{
    private readonly MemoryStream _bytes = new();

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
    public Task<JsonElement[]> WaitForLinesAsync(int count) =>
        Eventually.ValueAsync(() => Task.FromResult(JsonLines()), lines => lines.Length >= count, $"{count} lines were written", _ => "\n" + Text);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_bytes)
        {
            _bytes.Write(buffer);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
}
