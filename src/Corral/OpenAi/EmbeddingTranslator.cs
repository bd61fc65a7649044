using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Corral.Usage;

namespace Corral.OpenAi;

/// <summary>
/// <c>/v1/embeddings</c> to native <c>/api/embed</c> and back: <c>input</c> and <c>dimensions</c> go through
/// (an empty string becomes <c>[""]</c>); vectors come back as floats exactly as the backend wrote them, or as
/// base64 of little-endian float32 values.
/// </summary>
internal static class EmbeddingTranslator
{
    public static Translation Translate(JsonElement request, string model, out bool base64)
    {
        base64 = false;
        if (JsonKinds.Get(request, "encoding_format") is { } format)
        {
            var text = format.ValueKind == JsonValueKind.String ? format.GetString()! : format.GetRawText();
            if (text.Equals("base64", StringComparison.OrdinalIgnoreCase))
            {
                base64 = true;
            }
            else if (text.Length > 0 && !text.Equals("float", StringComparison.OrdinalIgnoreCase))
            {
                return Translation.Invalid($"Invalid value for 'encoding_format' = {text}. Supported values: ['float', 'base64'].");
            }
        }

        var input = JsonKinds.Get(request, "input");
        if (input is null || (input.Value.ValueKind == JsonValueKind.Array && input.Value.GetArrayLength() == 0))
        {
            return Translation.Invalid("invalid input");
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Pipeline.JsonAnswer.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WritePropertyName("input");
            if (input.Value.ValueKind == JsonValueKind.String && input.Value.GetString()!.Length == 0)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(string.Empty);
                writer.WriteEndArray();
            }
            else
            {
                input.Value.WriteTo(writer);
            }

            if (JsonKinds.Get(request, "dimensions") is { ValueKind: JsonValueKind.Number } dimensions && dimensions.TryGetInt32(out var d) && d > 0)
            {
                writer.WriteNumber("dimensions", d);
            }

            writer.WriteEndObject();
        }

        return new Translation(buffer.WrittenSpan.ToArray(), false, false, null);
    }

    public static void WriteResponse(Utf8JsonWriter writer, JsonElement native, string model, bool base64, TokenUsage usage)
    {
        usage.PromptTokens = ChatCompletionWriter.Int(native, "prompt_eval_count");
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        if (JsonKinds.Get(native, "embeddings") is { ValueKind: JsonValueKind.Array } embeddings)
        {
            var index = 0;
            foreach (var vector in embeddings.EnumerateArray())
            {
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WritePropertyName("embedding");
                if (base64)
                {
                    writer.WriteStringValue(ToBase64(vector));
                }
                else
                {
                    vector.WriteTo(writer);
                }

                writer.WriteNumber("index", index++);
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        writer.WriteString("model", model);
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.PromptTokens);
        writer.WriteNumber("total_tokens", usage.PromptTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string ToBase64(JsonElement vector)
    {
        var bytes = new byte[vector.GetArrayLength() * sizeof(float)];
        var offset = 0;
        foreach (var value in vector.EnumerateArray())
        {
            var number = value.ValueKind == JsonValueKind.Number
                ? float.Parse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture)
                : 0f;
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(offset), number);
            offset += sizeof(float);
        }

        return Convert.ToBase64String(bytes);
    }
}
