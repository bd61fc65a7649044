using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

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

    private static readonly JsonEncodedText s_time = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText s_keyId = JsonEncodedText.Encode("keyId");
    private static readonly JsonEncodedText s_keyName = JsonEncodedText.Encode("keyName");
    private static readonly JsonEncodedText s_user = JsonEncodedText.Encode("user");
    private static readonly JsonEncodedText s_route = JsonEncodedText.Encode("route");
    private static readonly JsonEncodedText s_model = JsonEncodedText.Encode("model");
    private static readonly JsonEncodedText s_resolvedModel = JsonEncodedText.Encode("resolvedModel");
    private static readonly JsonEncodedText s_backend = JsonEncodedText.Encode("backend");
    private static readonly JsonEncodedText s_status = JsonEncodedText.Encode("status");
    private static readonly JsonEncodedText s_error = JsonEncodedText.Encode("error");
    private static readonly JsonEncodedText s_promptTokens = JsonEncodedText.Encode("promptTokens");
    private static readonly JsonEncodedText s_completionTokens = JsonEncodedText.Encode("completionTokens");
    private static readonly JsonEncodedText s_queueMs = JsonEncodedText.Encode("queueMs");
    private static readonly JsonEncodedText s_ttftMs = JsonEncodedText.Encode("ttftMs");
    private static readonly JsonEncodedText s_durationMs = JsonEncodedText.Encode("durationMs");
    private static readonly JsonEncodedText s_overheadMs = JsonEncodedText.Encode("overheadMs");
    private static readonly JsonEncodedText s_bytesIn = JsonEncodedText.Encode("bytesIn");
    private static readonly JsonEncodedText s_bytesOut = JsonEncodedText.Encode("bytesOut");
    private static readonly JsonEncodedText s_attempts = JsonEncodedText.Encode("attempts");
    private static readonly JsonEncodedText s_cancelled = JsonEncodedText.Encode("cancelled");
    private static readonly JsonEncodedText s_requestBody = JsonEncodedText.Encode("requestBody");
    private static readonly JsonEncodedText s_responseText = JsonEncodedText.Encode("responseText");

    /// <summary>
    /// Writes the record as one JSON object (without the line break) and flushes the writer. The values that repeat
    /// from line to line (key, route, model as asked and resolved, backend: the same string objects every time, see
    /// <see cref="Catalog.CatalogMatch"/>) are encoded once,
    /// through <paramref name="encoded"/>, the caller's cache.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, UsageRecord record, EncodedStrings? encoded = null)
    {
        writer.WriteStartObject();
        Span<byte> time = stackalloc byte[24];
        // UTC with milliseconds: what log pipelines parse without a format of their own.
        writer.WriteString(s_time, Iso8601(record.Time.UtcDateTime, time));
        String(writer, s_keyId, record.KeyId, encoded);
        String(writer, s_keyName, record.KeyName, encoded);
        String(writer, s_user, record.User);
        String(writer, s_route, record.Route, encoded);
        String(writer, s_model, record.Model, encoded);
        String(writer, s_resolvedModel, record.ResolvedModel, encoded);
        String(writer, s_backend, record.Backend, encoded);
        writer.WriteNumber(s_status, record.Status);
        String(writer, s_error, record.Error);
        writer.WriteNumber(s_promptTokens, record.PromptTokens);
        writer.WriteNumber(s_completionTokens, record.CompletionTokens);
        Milliseconds(writer, s_queueMs, record.QueueMs);
        if (record.TtftMs is { } ttft)
        {
            Milliseconds(writer, s_ttftMs, ttft);
        }
        else
        {
            writer.WriteNull(s_ttftMs);
        }

        Milliseconds(writer, s_durationMs, record.DurationMs);
        Milliseconds(writer, s_overheadMs, record.OverheadMs);
        writer.WriteNumber(s_bytesIn, record.BytesIn);
        writer.WriteNumber(s_bytesOut, record.BytesOut);
        writer.WriteNumber(s_attempts, record.Attempts);
        writer.WriteBoolean(s_cancelled, record.Cancelled);
        if (record.RequestBody is { } body)
        {
            writer.WriteString(s_requestBody, body);
        }

        if (record.ResponseText is { } text)
        {
            writer.WriteString(s_responseText, text);
        }

        writer.WriteEndObject();
        writer.Flush();
    }

    private static void String(Utf8JsonWriter writer, JsonEncodedText name, string? value, EncodedStrings? encoded = null)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else if (encoded is not null)
        {
            writer.WriteString(name, encoded.Of(value));
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    // yyyy-MM-ddTHH:mm:ss.fffZ, digit by digit: a custom DateTime format costs more than the rest of the line's numbers.
    private static ReadOnlySpan<byte> Iso8601(DateTime utc, Span<byte> output)
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
        return output[..24];
    }

    private static void Digits(Span<byte> output, int at, int value, int count)
    {
        for (var i = at + count - 1; i >= at; i--)
        {
            output[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }

    /// <summary>
    /// Milliseconds to the microsecond (the finest a log reader uses), as a fixed-point number without trailing
    /// zeros: <c>1253.88</c>, <c>0.012</c>, <c>0</c>. Written by hand because formatting a double in its shortest
    /// round-trip form costs more than the rest of the line (measured in bench/README.md).
    /// </summary>
    public static void Milliseconds(Utf8JsonWriter writer, JsonEncodedText name, double milliseconds)
    {
        var micros = double.IsFinite(milliseconds) && milliseconds > 0 ? (long)Math.Round(milliseconds * 1000, MidpointRounding.AwayFromZero) : 0;
        Span<byte> digits = stackalloc byte[24];
        Utf8Formatter.TryFormat(micros / 1000, digits, out var length);
        var fraction = (int)(micros % 1000);
        if (fraction != 0)
        {
            digits[length++] = (byte)'.';
            digits[length++] = (byte)('0' + (fraction / 100));
            digits[length++] = (byte)('0' + (fraction / 10 % 10));
            digits[length++] = (byte)('0' + (fraction % 10));
            while (digits[length - 1] == '0')
            {
                length--;
            }
        }

        writer.WritePropertyName(name);
        writer.WriteRawValue(digits[..length], skipInputValidation: true);
    }
}
