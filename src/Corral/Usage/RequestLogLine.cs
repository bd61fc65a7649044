using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Corral.Hosting;

namespace Corral.Usage;

/// <summary>
/// One request as a line of the request log: the usage record's fields in camelCase, named as in the usage query
/// API. Every field is always there (null when unknown) so that a log pipeline sees one shape; only
/// <c>requestBody</c> and <c>responseText</c> appear just when the record carries them (<c>--log-bodies</c>).
/// The record holds no secret (keys appear by id and name only), so neither does the line.
/// </summary>
internal static class RequestLogLine
{
    /// <summary>Writes non-ASCII text as is (it is UTF-8); quotes, backslashes and control characters, line breaks included, are still escaped, so a line never breaks.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    // The longest a number takes: a long (20 characters), or milliseconds (Durations.MaxMillisecondsLength).
    private const int MaxNumberLength = 24;

    /// <summary>
    /// Writes the record as one JSON object (without the line break) into <paramref name="output"/>. The line is put
    /// together from fixed pieces (each field's name with its punctuation), numbers formatted in place and strings
    /// already encoded: the values that repeat from line to line (key, route, model as asked and resolved, backend:
    /// the same string objects every time, see <see cref="Catalog.CatalogMatch"/>) are encoded once, through
    /// <paramref name="encoded"/>, the caller's cache. Any other string (a user, an error, the bodies) is written by
    /// <paramref name="strings"/>, a writer with <see cref="WriterOptions"/>, so every string is escaped by the same
    /// encoder. About a third less CPU than writing the line field by field with <see cref="Utf8JsonWriter"/>
    /// (bench/README.md).
    /// </summary>
    public static void Write(IBufferWriter<byte> output, Utf8JsonWriter strings, UsageRecord record, EncodedStrings? encoded = null)
    {
        var line = new Line(output, strings);
        line.Raw("{\"time\":\""u8);
        // UTC with milliseconds: what log pipelines parse without a format of their own.
        var time = line.Take(24);
        if (encoded is null)
        {
            Iso8601(record.Time.UtcDateTime, time);
        }
        else
        {
            encoded.Iso8601(record.Time.UtcDateTime, time);
        }

        line.Raw("\",\"keyId\":"u8);
        line.String(record.KeyId, encoded, 0);
        line.Raw(",\"keyName\":"u8);
        line.String(record.KeyName, encoded, 1);
        line.Raw(",\"user\":"u8);
        line.String(record.User);
        line.Raw(",\"route\":"u8);
        line.String(record.Route, encoded, 2);
        line.Raw(",\"model\":"u8);
        line.String(record.Model, encoded, 3);
        line.Raw(",\"resolvedModel\":"u8);
        line.String(record.ResolvedModel, encoded, 4);
        line.Raw(",\"backend\":"u8);
        line.String(record.Backend, encoded, 5);
        line.Raw(",\"status\":"u8);
        line.Number(record.Status);
        line.Raw(",\"error\":"u8);
        line.String(record.Error);
        line.Raw(",\"promptTokens\":"u8);
        line.Number(record.PromptTokens);
        line.Raw(",\"completionTokens\":"u8);
        line.Number(record.CompletionTokens);
        line.Raw(",\"queueMs\":"u8);
        line.Milliseconds(record.QueueMs);
        line.Raw(",\"ttftMs\":"u8);
        if (record.TtftMs is { } ttft)
        {
            line.Milliseconds(ttft);
        }
        else
        {
            line.Raw("null"u8);
        }

        line.Raw(",\"durationMs\":"u8);
        line.Milliseconds(record.DurationMs);
        line.Raw(",\"overheadMs\":"u8);
        line.Milliseconds(record.OverheadMs);
        line.Raw(",\"bytesIn\":"u8);
        line.Number(record.BytesIn);
        line.Raw(",\"bytesOut\":"u8);
        line.Number(record.BytesOut);
        line.Raw(",\"attempts\":"u8);
        line.Number(record.Attempts);
        line.Raw(record.Cancelled ? ",\"cancelled\":true"u8 : ",\"cancelled\":false"u8);
        if (record.RequestBody is { } body)
        {
            line.Raw(",\"requestBody\":"u8);
            line.String(body);
        }

        if (record.ResponseText is { } text)
        {
            line.Raw(",\"responseText\":"u8);
            line.String(text);
        }

        line.Raw("}"u8);
        line.Commit();
    }

    /// <summary>
    /// Milliseconds to the microsecond (the finest a log reader uses), as a fixed-point number without trailing
    /// zeros: <c>1253.88</c>, <c>0.012</c>, <c>0</c>; written into <paramref name="digits"/> (at least 24 bytes),
    /// returning the length. Digit by digit (<see cref="Durations.Milliseconds(long, Span{byte})"/>, as the overhead
    /// header), because formatting a double in its shortest round-trip form costs more than the rest of the line
    /// (measured in bench/README.md).
    /// </summary>
    public static int Milliseconds(double milliseconds, Span<byte> digits) =>
        Durations.Milliseconds(double.IsFinite(milliseconds) && milliseconds > 0 ? (long)Math.Round(milliseconds * 1000, MidpointRounding.AwayFromZero) : 0, digits);

    /// <summary>yyyy-MM-ddTHH:mm:ss.fffZ into 24 bytes, digit by digit: a custom DateTime format costs more than the rest of the line's numbers.</summary>
    public static void Iso8601(DateTime utc, Span<byte> output)
    {
        Digits(output, 0, utc.Year, 4);
        output[4] = (byte)'-';
        Digits(output, 5, utc.Month, 2);
        output[7] = (byte)'-';
        Digits(output, 8, utc.Day, 2);
        output[10] = (byte)'T';
        Digits(output, 11, utc.Hour, 2);
        output[13] = (byte)':';
        Digits(output, 14, utc.Minute, 2);
        output[16] = (byte)':';
        Digits(output, 17, utc.Second, 2);
        output[19] = (byte)'.';
        Digits(output, 20, utc.Millisecond, 3);
        output[23] = (byte)'Z';
    }

    /// <summary>The last <paramref name="count"/> digits of <paramref name="value"/> at <paramref name="at"/>.</summary>
    public static void Digits(Span<byte> output, int at, int value, int count)
    {
        for (var i = at + count - 1; i >= at; i--)
        {
            output[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    /// <summary>The line being written: a span of the output filled piece by piece, handed back when full or done.</summary>
    private ref struct Line(IBufferWriter<byte> output, Utf8JsonWriter strings)
    {
        private Span<byte> _span;
        private int _used;

        public void Raw(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(Take(bytes.Length));
        }

        public void Number(long value)
        {
            Utf8Formatter.TryFormat(value, Reserve(MaxNumberLength), out var length);
            _used += length;
        }

        public void Milliseconds(double milliseconds) => _used += RequestLogLine.Milliseconds(milliseconds, Reserve(MaxNumberLength));

        public void String(string? value, EncodedStrings? encoded = null, int field = 0)
        {
            if (value is null)
            {
                Raw("null"u8);
            }
            else if (encoded is not null)
            {
                var bytes = encoded.Of(field, value).EncodedUtf8Bytes;
                var target = Take(bytes.Length + 2);
                target[0] = (byte)'"';
                bytes.CopyTo(target[1..]);
                target[^1] = (byte)'"';
            }
            else
            {
                // A value of its own at the writer's top level: just the quoted, escaped string.
                Commit();
                strings.Reset(output);
                strings.WriteStringValue(value);
                strings.Flush();
            }
        }

        /// <summary>The next <paramref name="length"/> bytes of the line, counted as written.</summary>
        public Span<byte> Take(int length)
        {
            var span = Reserve(length)[..length];
            _used += length;
            return span;
        }

        /// <summary>Hands what was written to the output.</summary>
        public void Commit()
        {
            output.Advance(_used);
            _used = 0;
            _span = default;
        }

        // At least `length` free bytes after the ones used, not yet counted.
        private Span<byte> Reserve(int length)
        {
            if (_span.Length - _used < length)
            {
                Commit();
                _span = output.GetSpan(Math.Max(length, 1024));
            }

            return _span[_used..];
        }
    }
}
