using System.Buffers;

namespace Corral.Forwarding;

/// <summary>
/// A converter that works line by line on an NDJSON answer: chunks are split at each <c>\n</c>, a line split across
/// two reads is joined first (rare: lines are small), and a last line without <c>\n</c> counts too. Blank lines
/// are skipped.
/// </summary>
internal abstract class LineConverter : IRelayConverter
{
    private byte[]? _partial;
    private int _partialLength;

    public abstract bool Streams { get; }

    public abstract bool Finished { get; }

    public virtual int PromptTokens => 0;

    public virtual int CompletionTokens => 0;

    public virtual string? Error => null;

    public abstract void Begin(HttpContext context, HttpResponseMessage upstream);

    public void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
    {
        var rest = chunk;
        if (_partialLength > 0)
        {
            var end = rest.IndexOf((byte)'\n');
            if (end < 0)
            {
                Keep(rest);
                return;
            }

            Keep(rest[..end]);
            var joined = _partial.AsSpan(0, _partialLength);
            _partialLength = 0;
            Line(joined, output);
            rest = rest[(end + 1)..];
        }

        while (!Finished && rest.IndexOf((byte)'\n') is var at and >= 0)
        {
            Line(rest[..at], output);
            rest = rest[(at + 1)..];
        }

        if (!Finished && !rest.IsEmpty)
        {
            Keep(rest);
        }
    }

    public ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output)
    {
        if (_partialLength > 0 && !Finished)
        {
            var last = _partial.AsSpan(0, _partialLength);
            _partialLength = 0;
            Line(last, output);
        }

        return EndAsync(context, output);
    }

    public abstract bool Fail(string message, IBufferWriter<byte> output);

    /// <summary>Converts one whole line (not blank, without its <c>\n</c>).</summary>
    public abstract void ConvertLine(ReadOnlySpan<byte> line, IBufferWriter<byte> output);

    /// <summary>The body ended after its last line; false when the answer is not whole.</summary>
    protected abstract ValueTask<bool> EndAsync(HttpContext? context, IBufferWriter<byte> output);

    private void Line(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        if (!line.Trim(" \t\r"u8).IsEmpty)
        {
            ConvertLine(line, output);
        }
    }

    private void Keep(ReadOnlySpan<byte> bytes)
    {
        if (_partial is null || _partial.Length < _partialLength + bytes.Length)
        {
            Array.Resize(ref _partial, Math.Max(256, (_partialLength + bytes.Length) * 2));
        }

        bytes.CopyTo(_partial.AsSpan(_partialLength));
        _partialLength += bytes.Length;
    }
}
