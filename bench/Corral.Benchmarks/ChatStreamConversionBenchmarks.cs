using System.Buffers;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Corral.OpenAi;

namespace Corral.Benchmarks;

/// <summary>
/// <see cref="ChatStreamConverter"/>: native <c>/api/chat</c> NDJSON lines to OpenAI chunks, per line (= per chunk).
/// Lines look like Ollama's: tokens of 1–6 characters, some with escapes, <c>created_at</c> with nanoseconds.
/// Target: at least 200,000 chunks/s on one core (≤ 5,000 ns per chunk) and under 256 B allocated per chunk.
/// </summary>
[MemoryDiagnoser]
public class ChatStreamConversionBenchmarks
{
    /// <summary>1 first line + 30 content lines + 1 final metrics line.</summary>
    private const int StreamLines = 32;

    // As they appear on the wire: JSON-escaped. 31 tokens, one for the first line and one per content line.
    private static readonly string[] s_tokens =
    [
        "The", " sky", " is", " blue", " be", "cause", " of", " Ray", "leigh", " scat", "ter", ".", "\\n", "\\n",
        "Sun", "light", " hits", " air", ";", " short", " waves", " (", "\\\"", "blue", "\\\"", ")", " scat",
        "ter", " most", ".", "\\n",
    ];

    private readonly ArrayBufferWriter<byte> _output = new(16 * 1024);
    private byte[] _first = [];
    private byte[][] _content = [];
    private byte[] _final = [];
    private ChatStreamConverter _steady = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var start = new DateTimeOffset(2025, 11, 21, 8, 52, 19, TimeSpan.FromHours(-7));
        _first = ContentLine(s_tokens[0], start, 0);
        _content = new byte[StreamLines - 2][];
        for (var i = 0; i < _content.Length; i++)
        {
            _content[i] = ContentLine(s_tokens[i + 1], start, i + 1);
        }

        _final = FinalLine(start, StreamLines - 1);

        _steady = NewConverter();
        _steady.ConvertLine(_first, _output);
        if (_output.WrittenCount == 0 || _steady.Done)
        {
            throw new InvalidOperationException("the first line gave no chunk");
        }

        // Check once that a whole stream ends as the benchmark assumes.
        _output.ResetWrittenCount();
        Stream();
        var text = Encoding.UTF8.GetString(_output.WrittenSpan);
        if (!text.EndsWith("data: [DONE]\n\n", StringComparison.Ordinal) || !text.Contains("\"usage\":{\"prompt_tokens\":26", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("unexpected stream output:\n" + text);
        }
    }

    /// <summary>Steady state: one content line through a converter whose per-stream head is already built.</summary>
    [Benchmark]
    public int ContentChunk()
    {
        _output.ResetWrittenCount();
        _steady.ConvertLine(_content[_next], _output);
        if (++_next == _content.Length)
        {
            _next = 0;
        }

        return _output.WrittenCount;
    }

    /// <summary>A whole stream with <c>include_usage</c>: new converter, first line, 30 content lines, final line.</summary>
    [Benchmark(OperationsPerInvoke = StreamLines)]
    public int Stream()
    {
        _output.ResetWrittenCount();
        var converter = NewConverter();
        converter.ConvertLine(_first, _output);
        foreach (var line in _content)
        {
            converter.ConvertLine(line, _output);
        }

        converter.ConvertLine(_final, _output);
        return _output.WrittenCount;
    }

    private static ChatStreamConverter NewConverter() =>
        new("chatcmpl-Xq3vK9mB2nR7tLw4yZ8pD1sF", modelPrefix: null, includeUsage: true, TimeProvider.System);

    private static byte[] ContentLine(string escapedToken, DateTimeOffset start, int index) =>
        Encoding.UTF8.GetBytes(
            "{\"model\":\"llama3.2\",\"created_at\":\"" + CreatedAt(start, index) +
            "\",\"message\":{\"role\":\"assistant\",\"content\":\"" + escapedToken + "\"},\"done\":false}");

    private static byte[] FinalLine(DateTimeOffset start, int index) =>
        Encoding.UTF8.GetBytes(
            "{\"model\":\"llama3.2\",\"created_at\":\"" + CreatedAt(start, index) +
            "\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true," +
            "\"total_duration\":4883583458,\"load_duration\":1334875,\"prompt_eval_count\":26," +
            "\"prompt_eval_duration\":342546000,\"eval_count\":31,\"eval_duration\":4535599000}");

    /// <summary>Go's RFC 3339 with nanoseconds, as Ollama writes it: <c>2025-11-21T08:52:19.385406455-07:00</c>.</summary>
    private static string CreatedAt(DateTimeOffset start, int index)
    {
        // About 23 ms a token, with nanosecond digits that do not end in zeros.
        var nanoseconds = 385_406_455L + (index * 23_417_291L);
        var time = start.AddSeconds(nanoseconds / 1_000_000_000);
        var fraction = nanoseconds % 1_000_000_000;
        return time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "." +
            fraction.ToString("D9", CultureInfo.InvariantCulture) + time.ToString("zzz", CultureInfo.InvariantCulture);
    }
}
