using System.Text.Json;

namespace Corral.Usage;

/// <summary>
/// JSON-encoded forms of strings that come back request after request as the very same objects (a key's id and
/// name, a route, a catalog id, a backend name), kept by reference so each is escaped and transcoded once. Bounded:
/// when full it starts over. Used by one thread.
/// </summary>
internal sealed class EncodedStrings
{
    private const int MaxEntries = 1024;

    private readonly Dictionary<string, JsonEncodedText> _encoded = new(ReferenceEqualityComparer.Instance);

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
}
