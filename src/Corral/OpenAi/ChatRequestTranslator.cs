using System.Buffers;
using System.Text.Json;

namespace Corral.OpenAi;

/// <summary>
/// <c>/v1/chat/completions</c> request to native <c>/api/chat</c>, by Ollama's rules (ollama-api.md, section B):
/// sampling options into <c>options</c> with temperature and top_p defaulting to 1, <c>stop</c> as a list,
/// <c>response_format</c> to <c>format</c>, <c>reasoning_effort</c> to <c>think</c>, tool calls with their
/// JSON-string arguments parsed into objects, and content parts split into separate messages. Unlike Ollama,
/// <c>max_completion_tokens</c> is honoured like <c>max_tokens</c>.
/// </summary>
internal static class ChatRequestTranslator
{
    private static readonly string[] s_imagePrefixes = ["data:image/jpeg;base64,", "data:image/jpg;base64,", "data:image/png;base64,", "data:image/webp;base64,", "data:;base64,"];

    public static Translation Translate(JsonElement request, string model)
    {
        if (JsonKinds.Get(request, "messages") is not { } messages || messages.ValueKind != JsonValueKind.Array)
        {
            return Translation.Invalid(JsonKinds.Get(request, "messages") is { } other
                ? $"invalid value for 'messages': expected an array, got {JsonKinds.GoType(other.ValueKind)}"
                : "[] is too short - 'messages'");
        }

        if (messages.GetArrayLength() == 0)
        {
            return Translation.Invalid("[] is too short - 'messages'");
        }

        if (OptionalBool(request, "stream", out var stream) is { } streamError)
        {
            return Translation.Invalid(streamError);
        }

        var includeUsage = IncludeUsage(request);

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Pipeline.JsonAnswer.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            writer.WritePropertyName("messages");
            if (WriteMessages(writer, messages) is { } messageError)
            {
                return Translation.Invalid(messageError);
            }

            writer.WriteBoolean("stream", stream);

            if (JsonKinds.Get(request, "response_format") is { ValueKind: JsonValueKind.Object } format)
            {
                var type = JsonKinds.Get(format, "type") is { ValueKind: JsonValueKind.String } t ? t.GetString()!.Trim().ToLowerInvariant() : string.Empty;
                if (type == "json_object")
                {
                    writer.WriteString("format", "json");
                }
                else if (type == "json_schema" && JsonKinds.Get(format, "json_schema") is { ValueKind: JsonValueKind.Object } schema && JsonKinds.Get(schema, "schema") is { } body)
                {
                    writer.WritePropertyName("format");
                    body.WriteTo(writer);
                }
            }

            if (JsonKinds.Get(request, "tools") is { } tools)
            {
                writer.WritePropertyName("tools");
                tools.WriteTo(writer);
            }

            if (Think(request, out var thinkError) is { } think)
            {
                writer.WritePropertyName("think");
                think.WriteTo(writer);
            }
            else if (thinkError is not null)
            {
                return Translation.Invalid(thinkError);
            }

            writer.WriteStartObject("options");
            if (WriteOptions(writer, request) is { } optionError)
            {
                return Translation.Invalid(optionError);
            }

            writer.WriteEndObject();

            if (JsonKinds.Get(request, "logprobs") is { ValueKind: JsonValueKind.True or JsonValueKind.False } logprobs)
            {
                writer.WriteBoolean("logprobs", logprobs.GetBoolean());
            }

            if (JsonKinds.Get(request, "top_logprobs") is { ValueKind: JsonValueKind.Number } top)
            {
                writer.WritePropertyName("top_logprobs");
                top.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return new Translation(buffer.WrittenSpan.ToArray(), stream, includeUsage, null);
    }

    private static string? WriteOptions(Utf8JsonWriter writer, JsonElement request)
    {
        if (MaxTokens(request) is { } maxTokens)
        {
            if (maxTokens.ValueKind != JsonValueKind.Number)
            {
                return "invalid value for 'max_tokens': expected a number";
            }

            writer.WritePropertyName("num_predict");
            maxTokens.WriteTo(writer);
        }

        if (JsonKinds.Get(request, "seed") is { } seed)
        {
            if (seed.ValueKind != JsonValueKind.Number)
            {
                return "invalid value for 'seed': expected a number";
            }

            writer.WritePropertyName("seed");
            seed.WriteTo(writer);
        }

        // Ollama's chat layer keeps the strings of a stop list and silently drops anything else.
        StopOption.Write(writer, request, rejectNonStrings: false);

        foreach (var (name, fallback) in new (string, double?)[] { ("temperature", 1.0), ("frequency_penalty", null), ("presence_penalty", null), ("top_p", 1.0) })
        {
            if (JsonKinds.Get(request, name) is { } value)
            {
                if (value.ValueKind != JsonValueKind.Number)
                {
                    return $"invalid value for '{name}': expected a number";
                }

                writer.WritePropertyName(name);
                value.WriteTo(writer);
            }
            else if (fallback is { } d)
            {
                writer.WriteNumber(name, d);
            }
        }

        return null;
    }

    private static JsonElement? Think(JsonElement request, out string? error)
    {
        error = null;
        var effort = JsonKinds.Get(request, "reasoning_effort")
            ?? (JsonKinds.Get(request, "reasoning") is { ValueKind: JsonValueKind.Object } reasoning ? JsonKinds.Get(reasoning, "effort") : null);
        if (effort is not { } value)
        {
            return null;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        var think = text switch
        {
            "none" => "false",
            "minimal" => "\"low\"",
            "low" or "medium" or "high" or "max" => $"\"{text}\"",
            "xhigh" or "ultra" => "\"max\"",
            _ => null,
        };
        if (think is null)
        {
            error = $"invalid reasoning value: '{text}' (use none, minimal, low, medium, high, xhigh, max or ultra)";
            return null;
        }

        using var document = JsonDocument.Parse(think);
        return document.RootElement.Clone();
    }

    private static string? WriteMessages(Utf8JsonWriter writer, JsonElement messages)
    {
        writer.WriteStartArray();
        var all = messages.EnumerateArray().ToArray();
        for (var m = 0; m < all.Length; m++)
        {
            var message = all[m];
            if (message.ValueKind != JsonValueKind.Object)
            {
                return "invalid message format";
            }

            var role = JsonKinds.Get(message, "role") is { ValueKind: JsonValueKind.String } r ? r.GetString()! : string.Empty;
            var reasoning = JsonKinds.Get(message, "reasoning") is { ValueKind: JsonValueKind.String } re ? re.GetString() : null;
            var toolCallId = JsonKinds.Get(message, "tool_call_id") is { ValueKind: JsonValueKind.String } tci ? tci.GetString() : null;
            string? toolName = null;
            if (role.Equals("tool", StringComparison.OrdinalIgnoreCase))
            {
                toolName = JsonKinds.Get(message, "name") is { ValueKind: JsonValueKind.String } n && n.GetString() is { Length: > 0 } given
                    ? given
                    : toolCallId is null ? null : ToolNameFromEarlierCall(all.AsSpan(0, m), toolCallId);
            }

            var toolCalls = JsonKinds.Get(message, "tool_calls") is { ValueKind: JsonValueKind.Array } tc && tc.GetArrayLength() > 0 ? tc : (JsonElement?)null;
            var content = JsonKinds.Get(message, "content");
            switch (content)
            {
                case { ValueKind: JsonValueKind.String } text:
                    if (WriteMessage(writer, role, text.GetString()!, reasoning, images: null, toolCalls, toolName, toolCallId) is { } textError)
                    {
                        return textError;
                    }

                    break;
                case { ValueKind: JsonValueKind.Array } parts:
                    var partList = parts.EnumerateArray().ToArray();
                    for (var p = 0; p < partList.Length; p++)
                    {
                        var last = p == partList.Length - 1;
                        if (Part(partList[p], out var partText, out var image) is { } partError)
                        {
                            return partError;
                        }

                        // Tool calls, tool name and reasoning go on the last message made from the parts.
                        var partMessageError = WriteMessage(writer, role, partText ?? string.Empty, last ? reasoning : null, image is null ? null : [image], last ? toolCalls : null, last ? toolName : null, last ? toolCallId : null);
                        if (partMessageError is not null)
                        {
                            return partMessageError;
                        }
                    }

                    break;
                default:
                    if (toolCalls is null)
                    {
                        return $"invalid message content type: {JsonKinds.GoType(content?.ValueKind ?? JsonValueKind.Null)}";
                    }

                    if (WriteMessage(writer, role, string.Empty, reasoning, images: null, toolCalls, toolName, toolCallId) is { } callError)
                    {
                        return callError;
                    }

                    break;
            }
        }

        writer.WriteEndArray();
        return null;
    }

    private static string? WriteMessage(Utf8JsonWriter writer, string role, string content, string? thinking, string[]? images, JsonElement? toolCalls, string? toolName, string? toolCallId)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteString("content", content);
        if (!string.IsNullOrEmpty(thinking))
        {
            writer.WriteString("thinking", thinking);
        }

        if (images is not null)
        {
            writer.WriteStartArray("images");
            foreach (var image in images)
            {
                writer.WriteStringValue(image);
            }

            writer.WriteEndArray();
        }

        if (toolCalls is { } calls)
        {
            writer.WriteStartArray("tool_calls");
            var index = 0;
            foreach (var call in calls.EnumerateArray())
            {
                var function = JsonKinds.Get(call, "function");
                var arguments = function is { } f && JsonKinds.Get(f, "arguments") is { ValueKind: JsonValueKind.String } a ? a.GetString()! : null;
                JsonDocument parsed;
                try
                {
                    parsed = JsonDocument.Parse(arguments ?? string.Empty);
                }
                catch (JsonException)
                {
                    return "invalid tool call arguments";
                }

                using (parsed)
                {
                    writer.WriteStartObject();
                    if (JsonKinds.Get(call, "id") is { ValueKind: JsonValueKind.String } id)
                    {
                        writer.WriteString("id", id.GetString());
                    }

                    writer.WriteStartObject("function");
                    writer.WriteNumber("index", JsonKinds.Get(call, "index") is { ValueKind: JsonValueKind.Number } i && i.TryGetInt32(out var n) ? n : index);
                    writer.WriteString("name", function is { } fn && JsonKinds.Get(fn, "name") is { ValueKind: JsonValueKind.String } name ? name.GetString() : string.Empty);
                    writer.WritePropertyName("arguments");
                    parsed.RootElement.WriteTo(writer);
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                }

                index++;
            }

            writer.WriteEndArray();
        }

        if (!string.IsNullOrEmpty(toolName))
        {
            writer.WriteString("tool_name", toolName);
        }

        if (!string.IsNullOrEmpty(toolCallId))
        {
            writer.WriteString("tool_call_id", toolCallId);
        }

        writer.WriteEndObject();
        return null;
    }

    /// <summary>One content part: text, or an image (base64 data URL) or audio, which native messages carry in <c>images</c>.</summary>
    private static string? Part(JsonElement part, out string? text, out string? image)
    {
        text = null;
        image = null;
        var type = JsonKinds.Get(part, "type") is { ValueKind: JsonValueKind.String } t ? t.GetString() : null;
        switch (type)
        {
            case "text":
                if (JsonKinds.Get(part, "text") is not { ValueKind: JsonValueKind.String } value)
                {
                    return "invalid message format";
                }

                text = value.GetString();
                return null;
            case "image_url":
                var url = JsonKinds.Get(part, "image_url") switch
                {
                    { ValueKind: JsonValueKind.String } s => s.GetString(),
                    { ValueKind: JsonValueKind.Object } o when JsonKinds.Get(o, "url") is { ValueKind: JsonValueKind.String } u => u.GetString(),
                    _ => null,
                };
                if (url is null)
                {
                    return "invalid message format";
                }

                if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                {
                    return "image URLs are not currently supported, please use base64 encoded data instead";
                }

                var prefix = Array.Find(s_imagePrefixes, p => url.StartsWith(p, StringComparison.Ordinal));
                if (prefix is null)
                {
                    return "invalid image input";
                }

                return Base64(url[prefix.Length..], out image);
            case "input_audio":
                return JsonKinds.Get(part, "input_audio") is { ValueKind: JsonValueKind.Object } audio && JsonKinds.Get(audio, "data") is { ValueKind: JsonValueKind.String } data
                    ? Base64(data.GetString()!, out image)
                    : "invalid message format";
            default:
                return "invalid message format";
        }
    }

    // Ollama decodes the base64 and the native request re-encodes it, so the backend gets canonical base64.
    private static string? Base64(string encoded, out string? canonical)
    {
        try
        {
            canonical = Convert.ToBase64String(Convert.FromBase64String(encoded));
            return null;
        }
        catch (FormatException)
        {
            canonical = null;
            return "invalid message format";
        }
    }

    private static string? ToolNameFromEarlierCall(ReadOnlySpan<JsonElement> earlier, string toolCallId)
    {
        for (var i = earlier.Length - 1; i >= 0; i--)
        {
            if (JsonKinds.Get(earlier[i], "tool_calls") is not { ValueKind: JsonValueKind.Array } calls)
            {
                continue;
            }

            foreach (var call in calls.EnumerateArray())
            {
                if (JsonKinds.Get(call, "id") is { ValueKind: JsonValueKind.String } id && id.GetString() == toolCallId
                    && JsonKinds.Get(call, "function") is { } function && JsonKinds.Get(function, "name") is { ValueKind: JsonValueKind.String } name)
                {
                    return name.GetString();
                }
            }
        }

        return null;
    }

    /// <summary><c>max_tokens</c>, or the newer <c>max_completion_tokens</c> (which Ollama's own layer ignores).</summary>
    public static JsonElement? MaxTokens(JsonElement request) =>
        JsonKinds.Get(request, "max_tokens") ?? JsonKinds.Get(request, "max_completion_tokens");

    /// <summary>OpenAI's <c>stream_options.include_usage</c>: a final chunk with the token usage.</summary>
    internal static bool IncludeUsage(JsonElement request) =>
        JsonKinds.Get(request, "stream_options") is { ValueKind: JsonValueKind.Object } options
        && JsonKinds.Get(options, "include_usage") is { ValueKind: JsonValueKind.True };

    /// <summary>Reads an optional boolean field; returns an error text when it has another type.</summary>
    public static string? OptionalBool(JsonElement request, string name, out bool value)
    {
        value = false;
        switch (JsonKinds.Get(request, name))
        {
            case null:
                return null;
            case { ValueKind: JsonValueKind.True or JsonValueKind.False } b:
                value = b.GetBoolean();
                return null;
            case { } other:
                return $"invalid value for '{name}': expected true or false, got {JsonKinds.GoType(other.ValueKind)}";
        }
    }
}
