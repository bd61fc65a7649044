using System.Text.Json;

namespace Corral.Usage;

/// <summary>
/// What repeats from one request log line to the next, kept so that it is written once: the JSON-encoded forms of
/// strings that come back request after request as the very same objects (a key's id and name, a route, a catalog
/// id, a backend name), kept by reference so each is escaped and transcoded once (bounded: when full it starts
/// over), and the time to the second. Used by one thread.
/// </summary>
internal sealed class EncodedStrings
{
    /// <summary>The fields a caller may ask <see cref="Of(int, string)"/> about, 0 to this less one.</summary>
    public const int Fields = 6;

    private const int MaxEntries = 1024;

    private readonly Dictionary<string, JsonEncodedText> _encoded = new(ReferenceEqualityComparer.Instance);

    // In front of the dictionary, the string last encoded for each field of a line: consecutive lines mostly repeat it.
    private readonly (string? Value, JsonEncodedText Encoded)[] _previous = new (string?, JsonEncodedText)[Fields];

    // The first 20 bytes of the time last written (yyyy-MM-ddTHH:mm:ss.), and the second they stand for.
    private readonly byte[] _second = new byte[20];
    private long _secondTicks = -1;

    /// <summary>The encoded form of a string, first compared with the previous one of the same <paramref name="field"/>.</summary>
    public JsonEncodedText Of(int field, string value)
    {
        ref var previous = ref _previous[field];
        if (!ReferenceEquals(previous.Value, value))
        {
            previous = (value, Of(value));
        }

        return previous.Encoded;
    }

    public JsonEncodedText Of(string value)
    {
        if (_encoded.TryGetValue(value, out var encoded))
        {
            return encoded;
        }

        if (_encoded.Count >= MaxEntries)
        {
            _encoded.Clear();
        }

        encoded = JsonEncodedText.Encode(value, RequestLogLine.WriterOptions.Encoder);
        _encoded[value] = encoded;
        return encoded;
    }

    /// <summary>
    /// <see cref="RequestLogLine.Iso8601"/>, with the date and time to the second kept from the previous call: the
    /// lines of one second share them, and only the milliseconds change.
    /// </summary>
    public void Iso8601(DateTime utc, Span<byte> output)
    {
        var second = utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond);
        if (second != _secondTicks)
        {
            RequestLogLine.Iso8601(utc, output);
            output[..20].CopyTo(_second);
            _secondTicks = second;
            return;
        }

        _second.CopyTo(output);
        RequestLogLine.Digits(output, 20, utc.Millisecond, 3);
        output[23] = (byte)'Z';
    }
}
