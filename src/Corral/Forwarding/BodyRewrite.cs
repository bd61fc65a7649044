using System.Buffers;
using System.Text.Json;

namespace Corral.Forwarding;

/// <summary>Writes one field of a rewritten body from the client's value (null when the client sent none), or nothing to drop it.</summary>
internal delegate void FieldWriter(Utf8JsonWriter writer, JsonElement? client);

/// <summary>
/// A JSON object request body written again with some top-level fields decided by Corral (a preset's settings on
/// a route whose API Ollama translates itself): each named field is written by its <see cref="FieldWriter"/> where
/// the client had it, or after the client's fields when it had none; every other field passes as it was sent.
/// </summary>
internal static class BodyRewrite
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><paramref name="body"/> (a JSON object, already checked) with <paramref name="fields"/> written by their writers.</summary>
    public static byte[] Apply(ReadOnlySpan<byte> body, IReadOnlyList<(string Name, FieldWriter Write)> fields)
    {
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        var buffer = new ArrayBufferWriter<byte>(body.Length + 256);
        var seen = new bool[fields.Count];
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var index = IndexOf(fields, property);
                if (index < 0)
                {
                    property.WriteTo(writer);
                }
                else if (!seen[index])
                {
                    seen[index] = true;
                    fields[index].Write(writer, property.Value);
                }
            }

            for (var i = 0; i < fields.Count; i++)
            {
                if (!seen[i])
                {
                    fields[i].Write(writer, null);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A field that takes <paramref name="value"/> when there is one, else keeps the client's.</summary>
    public static (string, FieldWriter) Prefer(string name, JsonElement? value)
    {
        return (name, Write);

        void Write(Utf8JsonWriter writer, JsonElement? client)
        {
            if ((value ?? client) is { } chosen)
            {
                writer.WritePropertyName(name);
                chosen.WriteTo(writer);
            }
        }
    }

    private static int IndexOf(IReadOnlyList<(string Name, FieldWriter Write)> fields, JsonProperty property)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (property.NameEquals(fields[i].Name))
            {
                return i;
            }
        }

        return -1;
    }
}
