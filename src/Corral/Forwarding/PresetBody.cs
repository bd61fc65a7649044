using System.Buffers;
using System.Text.Json;
using Corral.Catalog;

namespace Corral.Forwarding;

/// <summary>
/// A native request body with a preset applied, for the backend: the base's name in place of the preset's; the
/// preset's <c>options</c> over the client's (option by option), its <c>keep_alive</c>, <c>think</c> and
/// <c>format</c> in place of the client's, as Open WebUI applies a model's parameters; its system prompt first (a
/// system message before the client's messages on chat, before the client's own <c>system</c> on generate). Only
/// requests that name a preset pay for this: the body is written again, field by field.
/// </summary>
internal static class PresetBody
{
    private static readonly JsonWriterOptions s_options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// <paramref name="body"/> (a JSON object, already checked) for <paramref name="upstreamPath"/> with
    /// <paramref name="preset"/> applied; <paramref name="modelField"/> (<c>model</c>, or show's <c>name</c>) gets
    /// <paramref name="model"/>, the backend's name of the base.
    /// </summary>
    public static byte[] Apply(ReadOnlySpan<byte> body, ModelPreset preset, string model, string upstreamPath, string modelField = "model")
    {
        var chat = upstreamPath == "/api/chat";
        var generate = upstreamPath == "/api/generate";
        var show = upstreamPath == "/api/show";
        var reader = new Utf8JsonReader(body);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var buffer = new ArrayBufferWriter<byte>(body.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartObject();
            bool sawOptions = false, sawKeepAlive = false, sawThink = false, sawFormat = false, sawSystem = false;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals(modelField))
                {
                    writer.WriteString(modelField, model);
                }
                else if (show)
                {
                    property.WriteTo(writer);
                }
                else if (property.NameEquals("options"u8))
                {
                    sawOptions = true;
                    WriteOptions(writer, property.Value, preset.Options);
                }
                else if (property.NameEquals("keep_alive"u8))
                {
                    sawKeepAlive = true;
                    Write(writer, "keep_alive", preset.KeepAlive ?? property.Value);
                }
                else if ((chat || generate) && property.NameEquals("think"u8))
                {
                    sawThink = true;
                    Write(writer, "think", preset.Think ?? property.Value);
                }
                else if ((chat || generate) && property.NameEquals("format"u8))
                {
                    sawFormat = true;
                    Write(writer, "format", preset.Format ?? property.Value);
                }
                else if (chat && property.NameEquals("messages"u8) && preset.System is { } first && property.Value is { ValueKind: JsonValueKind.Array } messages && messages.GetArrayLength() > 0)
                {
                    writer.WriteStartArray("messages");
                    writer.WriteStartObject();
                    writer.WriteString("role", "system");
                    writer.WriteString("content", first);
                    writer.WriteEndObject();
                    foreach (var message in messages.EnumerateArray())
                    {
                        message.WriteTo(writer);
                    }

                    writer.WriteEndArray();
                }
                else if (generate && property.NameEquals("system"u8) && preset.System is { } before)
                {
                    sawSystem = true;
                    var own = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
                    writer.WriteString("system", string.IsNullOrEmpty(own) ? before : before + "\n\n" + own);
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            if (!show)
            {
                if (!sawOptions && preset.Options is { } options)
                {
                    Write(writer, "options", options);
                }

                if (!sawKeepAlive && preset.KeepAlive is { } keepAlive)
                {
                    Write(writer, "keep_alive", keepAlive);
                }

                if ((chat || generate) && !sawThink && preset.Think is { } think)
                {
                    Write(writer, "think", think);
                }

                if ((chat || generate) && !sawFormat && preset.Format is { } format)
                {
                    Write(writer, "format", format);
                }

                if (generate && !sawSystem && preset.System is { } system)
                {
                    writer.WriteString("system", system);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Content carrying <see cref="Apply"/>'s body.</summary>
    public static HttpContent Content(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    // The client's options that the preset does not set, then the preset's.
    private static void WriteOptions(Utf8JsonWriter writer, JsonElement client, JsonElement? preset)
    {
        if (preset is not { } mine || client.ValueKind != JsonValueKind.Object)
        {
            Write(writer, "options", preset ?? client);
            return;
        }

        writer.WriteStartObject("options");
        foreach (var option in client.EnumerateObject())
        {
            if (!mine.TryGetProperty(option.Name, out _))
            {
                option.WriteTo(writer);
            }
        }

        foreach (var option in mine.EnumerateObject())
        {
            option.WriteTo(writer);
        }

        writer.WriteEndObject();
    }

    private static void Write(Utf8JsonWriter writer, string field, JsonElement value)
    {
        writer.WritePropertyName(field);
        value.WriteTo(writer);
    }
}
