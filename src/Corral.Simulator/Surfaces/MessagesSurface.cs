using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Corral.Simulator.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Surfaces;

/// <summary>
/// <c>POST /v1/messages</c>: Ollama's AnthropicMessagesMiddleware (the request as an /api/chat request) and
/// AnthropicWriter (the answer as a Messages response, or its StreamConverter's events).
/// </summary>
internal sealed class MessagesSurface : ChatSurface
{
    private readonly string _id = "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
    private readonly string _model;
    private readonly bool _stream;
    private readonly int _estimatedInputTokens;
    private bool _started;
    private int _index;
    private bool _thinkingStarted;
    private bool _thinkingDone;
    private bool _textStarted;

    private MessagesSurface(string model, bool stream, int estimatedInputTokens)
    {
        _model = model;
        _stream = stream;
        _estimatedInputTokens = estimatedInputTokens;
    }

    public override bool RelaxThinking => true;

    public override bool CapsNumPredict => true;

    /// <summary>Validates the body as the middleware does and translates it (FromMessagesRequest); errors are 400s.</summary>
    public static (MessagesSurface Surface, byte[] ChatBody) FromRequest(byte[] raw)
    {
        if (raw.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            throw ApiError.BadRequest("EOF");
        }

        var body = RequestBody.Parse(raw, "MessagesRequest");
        var model = body.GetString("model") ?? string.Empty;
        var maxTokens = body.GetInt("max_tokens") ?? 0;
        var stream = body.GetBool("stream") ?? false;
        var messages = body.GetArray("messages", "[]anthropic.MessageParam");
        if (model.Length == 0)
        {
            throw ApiError.BadRequest("model is required");
        }

        if (maxTokens <= 0)
        {
            throw ApiError.BadRequest("max_tokens is required and must be positive");
        }

        if (messages is not { } list || list.GetArrayLength() == 0)
        {
            throw ApiError.BadRequest("messages is required");
        }

        var estimate = 0;
        var chat = Responses.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("messages");
            var system = body.Get("system");
            var systemText = SystemText(system);
            estimate += Encoding.UTF8.GetByteCount(systemText);
            if (systemText.Length > 0)
            {
                WriteMessage(w, "system", systemText);
            }

            foreach (var message in list.EnumerateArray())
            {
                estimate += ConvertMessage(w, message);
            }

            w.WriteEndArray();
            w.WriteBoolean("stream", stream);
            w.WriteStartObject("options");
            w.WriteNumber("num_predict", maxTokens);
            foreach (var (name, option) in (ReadOnlySpan<(string, string)>)[("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k"), ("stop_sequences", "stop")])
            {
                if (body.Get(name) is { } value)
                {
                    w.WritePropertyName(option);
                    value.WriteTo(w);
                }
            }

            w.WriteEndObject();
            WriteThink(w, body);
            w.WriteEndObject();
            estimate = estimate / 4 is 0 ? 1 : estimate / 4;
        });
        return (new MessagesSurface(model, stream, estimate), chat);
    }

    public override Task WriteErrorAsync(HttpContext context, int status, string message) =>
        EncodeAsync(context, status, "application/json", w => WriteError(w, status, message));

    /// <summary>anthropic.NewError: the envelope, with its type chosen by status.</summary>
    public static void WriteError(Utf8JsonWriter w, int status, string message)
    {
        w.WriteStartObject();
        w.WriteString("type", "error");
        w.WriteStartObject("error");
        w.WriteString("type", status switch
        {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            503 or 529 => "overloaded_error",
            _ => "api_error",
        });
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteString("request_id", "req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
        w.WriteEndObject();
    }

    protected override async Task WriteChunkAsync(SimRequest request, ChatChunk chunk)
    {
        await StartAsync(request, 0).ConfigureAwait(false);
        if (chunk.Thinking is { Length: > 0 } thinking && !_thinkingDone)
        {
            if (!_thinkingStarted)
            {
                _thinkingStarted = true;
                await BlockStartAsync(request, "thinking").ConfigureAwait(false);
            }

            await DeltaAsync(request, "thinking_delta", "thinking", thinking).ConfigureAwait(false);
        }

        if (chunk.Content.Length > 0)
        {
            if (_thinkingStarted && !_thinkingDone)
            {
                _thinkingDone = true;
                await BlockStopAsync(request).ConfigureAwait(false);
                _index++;
            }

            if (!_textStarted)
            {
                _textStarted = true;
                await BlockStartAsync(request, "text").ConfigureAwait(false);
            }

            await DeltaAsync(request, "text_delta", "text", chunk.Content).ConfigureAwait(false);
        }
    }

    public override async Task DoneAsync(SimRequest request, ChatResult result)
    {
        var stopReason = result.DoneReason switch
        {
            "stop" => "end_turn",
            "length" => "max_tokens",
            "" => string.Empty,
            _ => "stop_sequence",
        };
        if (!_stream)
        {
            await EncodeAsync(request.Http, StatusCodes.Status200OK, "application/json", w =>
            {
                w.WriteStartObject();
                w.WriteString("id", _id);
                w.WriteString("type", "message");
                w.WriteString("role", "assistant");
                w.WriteString("model", result.Model);
                w.WriteStartArray("content");
                WriteBlock(w, "thinking", result.Thinking);
                WriteBlock(w, "text", result.Content);
                w.WriteEndArray();
                if (stopReason.Length > 0)
                {
                    w.WriteString("stop_reason", stopReason);
                }

                WriteUsage(w, "usage", result.PromptEvalCount, result.EvalCount);
                w.WriteEndObject();
            }).ConfigureAwait(false);
            return;
        }

        await StartAsync(request, result.PromptEvalCount).ConfigureAwait(false);
        if (_textStarted || (_thinkingStarted && !_thinkingDone))
        {
            await BlockStopAsync(request).ConfigureAwait(false);
        }

        await WriteEventAsync(request, "message_delta", w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_delta");
            w.WriteStartObject("delta");
            if (stopReason.Length > 0)
            {
                w.WriteString("stop_reason", stopReason);
            }

            w.WriteEndObject();
            WriteUsage(w, "usage", result.PromptEvalCount, result.EvalCount);
            w.WriteEndObject();
        }).ConfigureAwait(false);
        await WriteEventAsync(request, "message_stop", w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_stop");
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private async Task StartAsync(SimRequest request, long promptEvalCount)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        var inputTokens = promptEvalCount > 0 ? promptEvalCount : _estimatedInputTokens;
        await WriteEventAsync(request, "message_start", w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "message_start");
            w.WriteStartObject("message");
            w.WriteString("id", _id);
            w.WriteString("type", "message");
            w.WriteString("role", "assistant");
            w.WriteString("model", _model);
            w.WriteStartArray("content");
            w.WriteEndArray();
            WriteUsage(w, "usage", inputTokens, 0);
            w.WriteEndObject();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private Task BlockStartAsync(SimRequest request, string type) =>
        WriteEventAsync(request, "content_block_start", w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "content_block_start");
            w.WriteNumber("index", _index);
            w.WriteStartObject("content_block");
            w.WriteString("type", type);
            w.WriteString(type, string.Empty);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    private Task DeltaAsync(SimRequest request, string type, string field, string text) =>
        WriteEventAsync(request, "content_block_delta", w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "content_block_delta");
            w.WriteNumber("index", _index);
            w.WriteStartObject("delta");
            w.WriteString("type", type);
            w.WriteString(field, text);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    private Task BlockStopAsync(SimRequest request) =>
        WriteEventAsync(request, "content_block_stop", w =>
        {
            w.WriteStartObject();
            w.WriteString("type", "content_block_stop");
            w.WriteNumber("index", _index);
            w.WriteEndObject();
        });

    private static void WriteBlock(Utf8JsonWriter w, string type, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteString(type, text);
        w.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter w, string name, long input, long output)
    {
        w.WriteStartObject(name);
        w.WriteNumber("input_tokens", input);
        w.WriteNumber("output_tokens", output);
        w.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter w, string role, string content, IReadOnlyList<string>? images = null, string? thinking = null, string? toolCallId = null)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteString("content", content);
        if (thinking is { Length: > 0 })
        {
            w.WriteString("thinking", thinking);
        }

        if (images is { Count: > 0 })
        {
            w.WriteStartArray("images");
            foreach (var image in images)
            {
                w.WriteStringValue(image);
            }

            w.WriteEndArray();
        }

        if (toolCallId is { Length: > 0 })
        {
            w.WriteString("tool_call_id", toolCallId);
        }

        w.WriteEndObject();
    }

    /// <summary>A string, or the text blocks of an array concatenated.</summary>
    private static string SystemText(JsonElement? system) => system switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString()!,
        { ValueKind: JsonValueKind.Array } blocks => string.Concat(blocks.EnumerateArray()
            .Where(b => Text(b, "type") == "text")
            .Select(b => Text(b, "text"))),
        _ => string.Empty,
    };

    /// <summary>convertMessage: text, images and thinking into one message, tool results into tool messages. Returns the bytes EstimateInputTokens counts.</summary>
    private static int ConvertMessage(Utf8JsonWriter w, JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw ApiError.BadRequest($"json: cannot unmarshal {RequestBody.Kind(message)} into Go value of type anthropic.MessageParam");
        }

        var role = (Text(message, "role") ?? string.Empty).ToLowerInvariant();
        var counted = Encoding.UTF8.GetByteCount(Text(message, "role") ?? string.Empty);
        var text = new StringBuilder();
        var images = new List<string>();
        var thinking = string.Empty;
        var toolResults = new List<(string Content, string Id)>();
        var content = RequestBody.Property(message, "content");
        var blocks = content switch
        {
            null => [],
            { ValueKind: JsonValueKind.String } s => [s],
            { ValueKind: JsonValueKind.Array } a => a.EnumerateArray().ToList(),
            { } other => throw ApiError.BadRequest($"json: cannot unmarshal {RequestBody.Kind(other)} into Go struct field MessagesRequest.messages of type []anthropic.ContentBlock"),
        };
        foreach (var block in blocks)
        {
            if (block.ValueKind == JsonValueKind.String)
            {
                text.Append(block.GetString());
                counted += Encoding.UTF8.GetByteCount(block.GetString()!);
                continue;
            }

            switch (Text(block, "type"))
            {
                case "text":
                    var value = Text(block, "text") ?? string.Empty;
                    text.Append(value);
                    counted += Encoding.UTF8.GetByteCount(value);
                    break;
                case "image":
                    images.Add(ImageData(RequestBody.Property(block, "source")));
                    break;
                case "tool_use":
                    if (string.IsNullOrEmpty(Text(block, "id")))
                    {
                        throw ApiError.BadRequest("tool_use block missing required 'id' field");
                    }

                    if (string.IsNullOrEmpty(Text(block, "name")))
                    {
                        throw ApiError.BadRequest("tool_use block missing required 'name' field");
                    }

                    counted += block.GetRawText().Length;
                    break;
                case "tool_result":
                    var result = RequestBody.Property(block, "content") switch
                    {
                        { ValueKind: JsonValueKind.String } s => s.GetString()!,
                        { ValueKind: JsonValueKind.Array } parts => string.Concat(parts.EnumerateArray().Where(p => Text(p, "type") == "text").Select(p => Text(p, "text"))),
                        _ => string.Empty,
                    };
                    toolResults.Add((result, Text(block, "tool_use_id") ?? string.Empty));
                    counted += block.GetRawText().Length;
                    break;
                case "thinking":
                    thinking = Text(block, "thinking") ?? string.Empty;
                    counted += Encoding.UTF8.GetByteCount(thinking);
                    break;
            }
        }

        if (role == "user")
        {
            WriteToolResults(w, toolResults);
        }

        if (text.Length > 0 || images.Count > 0 || thinking.Length > 0)
        {
            WriteMessage(w, role, text.ToString(), images, thinking);
        }

        if (role != "user")
        {
            WriteToolResults(w, toolResults);
        }

        return counted;
    }

    private static void WriteToolResults(Utf8JsonWriter w, List<(string Content, string Id)> results)
    {
        foreach (var (content, id) in results)
        {
            WriteMessage(w, "tool", content, toolCallId: id);
        }
    }

    private static string ImageData(JsonElement? source)
    {
        if (source is not { ValueKind: JsonValueKind.Object } s)
        {
            throw ApiError.BadRequest("invalid image source");
        }

        var type = Text(s, "type") ?? string.Empty;
        if (type != "base64")
        {
            throw ApiError.BadRequest($"invalid image source type: {type}. Only base64 images are supported.");
        }

        var data = Text(s, "data") ?? string.Empty;
        if (!Convert.TryFromBase64String(data, new byte[data.Length], out _))
        {
            throw ApiError.BadRequest("invalid base64 image data: illegal base64 data at input byte 0");
        }

        return data;
    }

    /// <summary>thinking {type: enabled|disabled} first, else output_config.effort as a level (xhigh counts as high).</summary>
    private static void WriteThink(Utf8JsonWriter w, RequestBody body)
    {
        var thinking = body.Get("thinking") is { ValueKind: JsonValueKind.Object } t ? Text(t, "type") : null;
        if (thinking is "enabled" or "disabled")
        {
            w.WriteBoolean("think", thinking == "enabled");
            return;
        }

        var effort = body.Get("output_config") is { ValueKind: JsonValueKind.Object } config
            ? (Text(config, "effort") ?? string.Empty).Trim().ToLowerInvariant()
            : string.Empty;
        effort = effort == "xhigh" ? "high" : effort;
        if (effort is "high" or "medium" or "low" or "max")
        {
            w.WriteString("think", effort);
        }
    }

    private static string? Text(JsonElement obj, string name) =>
        RequestBody.Property(obj, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}
