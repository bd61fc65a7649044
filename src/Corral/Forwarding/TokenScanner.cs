namespace Corral.Forwarding;

/// <summary>
/// Finds the token counts in a native answer as its bytes pass through, without buffering it: the last
/// <c>"prompt_eval_count":N</c> and <c>"eval_count":N</c> at any depth (Ollama writes them once, in the final
/// object or NDJSON line), and an <c>{"error":…}</c> line in a stream. A key split across two chunks is joined from
/// the tail kept of the previous one; a number split across chunks is continued. Keys inside strings cannot match:
/// there a quote is always escaped.
/// </summary>
internal struct TokenScanner
{
    private const int TailLength = 24;
    private static ReadOnlySpan<byte> EvalKey => "eval_count\""u8;
    private static ReadOnlySpan<byte> PromptPrefix => "\"prompt_"u8;
    private static ReadOnlySpan<byte> ErrorLine => "{\"error\":"u8;

    private TailBuffer _tail;
    private int _tailLength;
    private int _partialNumber;
    private bool _inNumber;
    private bool _numberIsPrompt;

    public int PromptTokens { get; private set; }

    public int CompletionTokens { get; private set; }

    /// <summary>The start of an error line, when a stream carried one (decoded by the caller when the answer ends).</summary>
    public string? Error { get; private set; }

    public void Scan(ReadOnlySpan<byte> chunk)
    {
        var start = 0;
        if (_inNumber)
        {
            start = ContinueNumber(chunk);
        }

        if (_tailLength > 0)
        {
            ScanJoint(chunk);
        }

        ScanWithin(chunk, start);
        KeepTail(chunk);
    }

    // Keys that start in the kept tail and end in this chunk.
    private void ScanJoint(ReadOnlySpan<byte> chunk)
    {
        Span<byte> joint = stackalloc byte[TailLength * 2];
        var tail = ((ReadOnlySpan<byte>)_tail)[.._tailLength];
        tail.CopyTo(joint);
        var head = chunk[..Math.Min(chunk.Length, TailLength)];
        head.CopyTo(joint[tail.Length..]);
        var joined = joint[..(tail.Length + head.Length)];
        // Only where a key can cross the boundary: it starts in the tail and ends in the chunk.
        var from = Math.Max(0, tail.Length - EvalKey.Length + 1);
        var found = joined[from..].IndexOf(EvalKey);
        if (found < 0 || from + found >= tail.Length)
        {
            return;
        }

        var at = from + found;
        var isPrompt = IsPromptKey(joined, at);
        var isEval = at > 0 && joined[at - 1] == '"';
        if (isPrompt || isEval)
        {
            // The number starts in this chunk.
            ReadNumber(chunk, at + EvalKey.Length - tail.Length, isPrompt);
        }
    }

    private void ScanWithin(ReadOnlySpan<byte> chunk, int start)
    {
        var offset = start;
        while (offset < chunk.Length)
        {
            var at = chunk[offset..].IndexOf(EvalKey);
            if (at < 0)
            {
                break;
            }

            at += offset;
            var isPrompt = at >= PromptPrefix.Length ? IsPromptKey(chunk, at) : EndsAcross(chunk, at, PromptPrefix);
            var isEval = at > 0 ? chunk[at - 1] == '"' : _tailLength > 0 && _tail[_tailLength - 1] == '"';
            offset = at + EvalKey.Length;
            if (isPrompt || isEval)
            {
                offset = ReadNumber(chunk, offset, isPrompt);
            }
        }

        if (Error is null && chunk.IndexOf(ErrorLine) is var e and >= 0)
        {
            var line = chunk[e..];
            var end = line.IndexOf((byte)'\n');
            Error = OllamaError.MessageOf(end < 0 ? line : line[..end]);
        }
    }

    // Whether `expected` ends right before `at`, its start in the tail kept of the previous chunk.
    private readonly bool EndsAcross(ReadOnlySpan<byte> chunk, int at, ReadOnlySpan<byte> expected)
    {
        var fromTail = expected.Length - at;
        if (fromTail > _tailLength)
        {
            return false;
        }

        var tail = ((ReadOnlySpan<byte>)_tail)[.._tailLength];
        return tail[^fromTail..].SequenceEqual(expected[..fromTail]) && chunk[..at].SequenceEqual(expected[fromTail..]);
    }

    // "prompt_eval_count": the key of the prompt tokens, at `at` (where "eval_count\"" starts).
    private static bool IsPromptKey(ReadOnlySpan<byte> span, int at) => at >= PromptPrefix.Length && span[(at - PromptPrefix.Length)..at].SequenceEqual(PromptPrefix);

    // Reads `: 123` from `from`; returns where it stopped. A number running to the end of the chunk is continued in the next.
    private int ReadNumber(ReadOnlySpan<byte> chunk, int from, bool isPrompt)
    {
        var i = from;
        while (i < chunk.Length && chunk[i] is (byte)' ' or (byte)':' or (byte)'\t')
        {
            i++;
        }

        var digits = i;
        var value = 0;
        while (i < chunk.Length && chunk[i] is >= (byte)'0' and <= (byte)'9' && value < 100_000_000)
        {
            value = (value * 10) + (chunk[i] - '0');
            i++;
        }

        if (i == chunk.Length)
        {
            // Possibly split: finish in the next chunk.
            _inNumber = true;
            _numberIsPrompt = isPrompt;
            _partialNumber = value;
            return i;
        }

        if (i > digits)
        {
            Set(isPrompt, value);
        }

        return i;
    }

    private int ContinueNumber(ReadOnlySpan<byte> chunk)
    {
        var i = 0;
        var value = _partialNumber;
        var seenDigit = value > 0;
        while (i < chunk.Length && chunk[i] is (byte)' ' or (byte)':' && !seenDigit)
        {
            i++;
        }

        while (i < chunk.Length && chunk[i] is >= (byte)'0' and <= (byte)'9' && value < 100_000_000)
        {
            value = (value * 10) + (chunk[i] - '0');
            seenDigit = true;
            i++;
        }

        if (i < chunk.Length)
        {
            _inNumber = false;
            if (seenDigit)
            {
                Set(_numberIsPrompt, value);
            }
        }
        else
        {
            _partialNumber = value;
        }

        return i;
    }

    private void Set(bool isPrompt, int value)
    {
        if (isPrompt)
        {
            PromptTokens = value;
        }
        else
        {
            CompletionTokens = value;
        }
    }

    // The last bytes seen, across chunks however small, for keys that cross a chunk boundary.
    private void KeepTail(ReadOnlySpan<byte> chunk)
    {
        Span<byte> tail = _tail;
        if (chunk.Length >= TailLength)
        {
            chunk[^TailLength..].CopyTo(tail);
            _tailLength = TailLength;
            return;
        }

        var keep = Math.Min(_tailLength, TailLength - chunk.Length);
        tail[(_tailLength - keep).._tailLength].CopyTo(tail);
        chunk.CopyTo(tail[keep..]);
        _tailLength = keep + chunk.Length;
    }

    [System.Runtime.CompilerServices.InlineArray(TailLength)]
    private struct TailBuffer
    {
        private byte _element;
    }
}
