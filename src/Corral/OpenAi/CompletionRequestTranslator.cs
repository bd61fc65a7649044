using System.Buffers;
using System.Text.Json;

namespace Corral.OpenAi;

/// <summary>
/// <c>/v1/completions</c> request to native <c>/api/generate</c>, by Ollama's rules: the prompt must be a string;
/// frequency and presence penalties are always sent (0 by default); temperature defaults to 1 and top_p to 1 when
/// 0 or absent; every <c>stop</c> entry must be a string; <c>logprobs</c> N &gt; 0 asks for N top log-probabilities.
/// </summary>
internal static class CompletionRequestTranslator
{
    public static Translation Translate(JsonElement request, string model)
    {
        var prompt = string.Empty;
        switch (JsonKinds.Get(request, "prompt"))
        {
            case { ValueKind: JsonValueKind.String } p:
                prompt = p.GetString()!;
                break;
            case { } other:
                return Translation.Invalid($"invalid value for 'prompt': expected a string, got {JsonKinds.GoType(other.ValueKind)}");
        }

        if (ChatRequestTranslator.OptionalBool(request, "stream", out var stream) is { } streamError)
        {
            return Translation.Invalid(streamError);
        }

        var includeUsage = ChatRequestTranslator.IncludeUsage(request);

        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, Pipeline.JsonAnswer.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WriteString("prompt", prompt);
            writer.WriteBoolean("stream", stream);
            if (JsonKinds.Get(request, "suffix") is { ValueKind: JsonValueKind.String } suffix && suffix.GetString() is { Length: > 0 } text)
            {
                writer.WriteString("suffix", text);
            }

            writer.WriteStartObject("options");
            if (WriteOptions(writer, request) is { } error)
            {
                return Translation.Invalid(error);
            }

            writer.WriteEndObject();

            if (JsonKinds.Get(request, "logprobs") is { ValueKind: JsonValueKind.Number } logprobs && logprobs.TryGetInt32(out var n) && n > 0)
            {
                writer.WriteBoolean("logprobs", true);
                writer.WriteNumber("top_logprobs", n);
            }

            writer.WriteEndObject();
        }

        return new Translation(buffer.WrittenSpan.ToArray(), stream, includeUsage, null);
    }

    private static string? WriteOptions(Utf8JsonWriter writer, JsonElement request)
    {
        foreach (var name in new[] { "frequency_penalty", "presence_penalty" })
        {
            if (Number(request, name, out var value) is { } error)
            {
                return error;
            }

            if (value is { } v)
            {
                writer.WritePropertyName(name);
                v.WriteTo(writer);
            }
            else
            {
                writer.WriteNumber(name, 0.0);
            }
        }

        if (Number(request, "temperature", out var temperature) is { } temperatureError)
        {
            return temperatureError;
        }

        if (temperature is { } t)
        {
            writer.WritePropertyName("temperature");
            t.WriteTo(writer);
        }
        else
        {
            writer.WriteNumber("temperature", 1.0);
        }

        if (Number(request, "top_p", out var topP) is { } topPError)
        {
            return topPError;
        }

        if (topP is { } p && p.GetDouble() != 0)
        {
            writer.WritePropertyName("top_p");
            p.WriteTo(writer);
        }
        else
        {
            writer.WriteNumber("top_p", 1.0);
        }

        if (ChatRequestTranslator.MaxTokens(request) is { } maxTokens)
        {
            if (maxTokens.ValueKind != JsonValueKind.Number)
            {
                return "invalid value for 'max_tokens': expected a number";
            }

            writer.WritePropertyName("num_predict");
            maxTokens.WriteTo(writer);
        }

        if (Number(request, "seed", out var seed) is { } seedError)
        {
            return seedError;
        }

        if (seed is { } s)
        {
            writer.WritePropertyName("seed");
            s.WriteTo(writer);
        }

        // Its completions layer refuses a stop list with anything but strings.
        if (StopOption.Write(writer, request, rejectNonStrings: true) is { } stopError)
        {
            return stopError;
        }

        return null;
    }

    private static string? Number(JsonElement request, string name, out JsonElement? value)
    {
        value = JsonKinds.Get(request, name);
        return value is { ValueKind: not JsonValueKind.Number } ? $"invalid value for '{name}': expected a number" : null;
    }
}
