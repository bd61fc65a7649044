using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Corral.Usage;

namespace Corral.Benchmarks;

/// <summary>
/// The four times of a request log line (queue, first byte, duration, overhead, in milliseconds to the
/// microsecond): <c>Utf8JsonWriter.WriteNumber</c> of the rounded double (its shortest round-trip form) against
/// <see cref="RequestLogLine.Milliseconds"/>, fixed-point digits written by hand. Per line (four numbers and the
/// object around them).
/// </summary>
[MemoryDiagnoser]
public class RequestLogNumberBenchmarks
{
    private static readonly JsonEncodedText s_name = JsonEncodedText.Encode("durationMs");
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter _writer = null!;
    private readonly double[] _values = [0.012, 182.417, 1253.88, 0.214];

    [GlobalSetup]
    public void Setup() => _writer = new Utf8JsonWriter(_buffer, RequestLogLine.WriterOptions);

    [Benchmark(Baseline = true)]
    public int RoundedDouble()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        foreach (var v in _values)
        {
            _writer.WriteNumber(s_name, Math.Round(v, 3));
        }

        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int FixedPoint()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        Span<byte> digits = stackalloc byte[24];
        foreach (var v in _values)
        {
            var length = RequestLogLine.Milliseconds(v, digits);
            _writer.WritePropertyName(s_name);
            _writer.WriteRawValue(digits[..length], skipInputValidation: true);
        }

        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenCount;
    }
}
