using System.Buffers;

namespace Corral.Forwarding;

/// <summary>A whole line of a relayed answer, its <c>\n</c> included (the last line may have none).</summary>
internal delegate void LineHandler(ReadOnlySpan<byte> line, IBufferWriter<byte> output);

/// <summary>
/// Cuts a relayed answer into whole lines for converters that rewrite a line at a time and keep every byte of it
/// (blank lines too: they end server-sent events). A line split across two reads is joined first; the rest of a
/// chunk is handed on without a copy.
/// </summary>
internal sealed class LineSplitter
{
    private readonly ArrayBufferWriter<byte> _partial = new(256);

    /// <summary>Hands each line that <paramref name="chunk"/> completes to <paramref name="handler"/>; keeps the rest.</summary>
    public void Split(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output, LineHandler handler)
    {
        var rest = chunk;
        while (rest.IndexOf((byte)'\n') is var at and >= 0)
        {
            if (_partial.WrittenCount > 0)
            {
                _partial.Write(rest[..(at + 1)]);
                handler(_partial.WrittenSpan, output);
                _partial.Clear();
            }
            else
            {
                handler(rest[..(at + 1)], output);
            }

            rest = rest[(at + 1)..];
        }

        if (!rest.IsEmpty)
        {
            _partial.Write(rest);
        }
    }

    /// <summary>The answer ended: hands on a last line that had no <c>\n</c>.</summary>
    public void Flush(IBufferWriter<byte> output, LineHandler handler)
    {
        if (_partial.WrittenCount > 0)
        {
            handler(_partial.WrittenSpan, output);
            _partial.Clear();
        }
    }
}
