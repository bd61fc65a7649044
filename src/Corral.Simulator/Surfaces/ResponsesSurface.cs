using System.Globalization;
using System.Text;
using System.Text.Json;
using Corral.Simulator.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Surfaces;

/// <summary>
/// <c>POST /v1/responses</c>: Ollama's ResponsesMiddleware (FromResponsesRequest) and ResponsesWriter (ToResponse,
/// or ResponsesStreamConverter's events with their sequence numbers).
/// </summary>
internal sealed class ResponsesSurface : ChatSurface
{
    private static readonly string[] s_startEvents = ["response.created", "response.in_progress"];
    private readonly string _responseId = "resp_" + Random.Shared.Next(999999).ToString(CultureInfo.InvariantCulture);
    private readonly string _itemId = "msg_" + Random.Shared.Next(999999).ToString(CultureInfo.InvariantCulture);
    private readonly RequestBody _request;
    private readonly string _model;
    private readonly bool _stream;
    private readonly TimeProvider _time;
    private readonly StringBuilder _text = new();
    private readonly StringBuilder _thinking = new();
    private bool _started;
    private int _sequence;
    private int _outputIndex;
    private bool _contentStarted;
    private string? _reasoningId;
    private byte[]? _reasoningItem;

    private ResponsesSurface(RequestBody request, string model, bool stream, TimeProvider time)
    {
        _request = request;
        _model = model;
        _stream = stream;
        _time = time;
    }

    /// <summary>Validates the body as the middleware does and translates it; errors are 400s.</summary>
    public static (ResponsesSurface Surface, byte[] ChatBody) FromRequest(byte[] raw, TimeProvider time)
    {
        if (raw.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            throw ApiError.BadRequest("EOF");
        }

        var body = RequestBody.Parse(raw, "ResponsesRequest");
        var model = body.GetString("model") ?? string.Empty;
        var stream = body.GetBool("stream") ?? false;
        var instructions = body.GetString("instructions") ?? string.Empty;
        var input = body.Get("input");
        var effort = body.GetObject("reasoning", "openai.ResponsesReasoning") is { } reasoning ? Text(reasoning, "effort") ?? string.Empty : string.Empty;
        var think = effort switch
        {
            "" => null,
            "none" => (object)false,
            "minimal" => "low",
            "low" or "medium" or "high" or "max" => effort,
            "xhigh" or "ultra" => "max",
            _ => throw ApiError.BadRequest($"invalid reasoning value: {GoText.Quote(effort)} (must be \"minimal\", \"low\", \"medium\", \"high\", \"xhigh\", \"ultra\", \"max\", or \"none\")"),
        };

        var chat = Responses.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("messages");
            if (instructions.Length > 0)
            {
                WriteMessage(w, "system", instructions);
            }

            WriteInput(w, input);
            w.WriteEndArray();
            w.WriteBoolean("stream", stream);
            w.WriteStartObject("options");
            w.WriteNumber("temperature", body.Get("temperature") is { ValueKind: JsonValueKind.Number } t ? t.GetDouble() : 1.0);
            if (body.Get("top_p") is { ValueKind: JsonValueKind.Number } topP)
            {
                w.WriteNumber("top_p", topP.GetDouble());
            }

            if (body.GetInt("max_output_tokens") is { } limit)
            {
                w.WriteNumber("num_predict", limit);
            }

            w.WriteEndObject();
            if (body.Get("text") is { ValueKind: JsonValueKind.Object } text && RequestBody.Property(text, "format") is { ValueKind: JsonValueKind.Object } format
                && Text(format, "type") == "json_schema" && RequestBody.Property(format, "schema") is { } schema)
            {
                w.WritePropertyName("format");
                schema.WriteTo(w);
            }

            switch (think)
            {
                case bool b:
                    w.WriteBoolean("think", b);
                    break;
                case string level:
                    w.WriteString("think", level);
                    break;
            }

            w.WriteEndObject();
        });
        return (new ResponsesSurface(body, model, stream, time), chat);
    }

    public override Task WriteErrorAsync(HttpContext context, int status, string message) =>
        EncodeAsync(context, status, "application/json", w => WriteError(w, status, message));

    /// <summary>openai.NewError: <c>{"error":{"message","type","param":null,"code":null}}</c>.</summary>
    public static void WriteError(Utf8JsonWriter w, int status, string message)
    {
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", status switch
        {
            400 => "invalid_request_error",
            404 => "not_found_error",
            _ => "api_error",
        });
        w.WriteNull("param");
        w.WriteNull("code");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    protected override async Task WriteChunkAsync(SimRequest request, ChatChunk chunk)
    {
        await StartAsync(request).ConfigureAwait(false);
        if (chunk.Thinking is { Length: > 0 } thinking)
        {
            if (_reasoningId is null)
            {
                _reasoningId = "rs_" + Random.Shared.Next(999999).ToString(CultureInfo.InvariantCulture);
                await EventAsync(request, "response.output_item.added", w =>
                {
                    w.WriteNumber("output_index", _outputIndex);
                    w.WriteStartObject("item");
                    w.WriteString("id", _reasoningId);
                    w.WriteString("type", "reasoning");
                    w.WriteStartArray("summary");
                    w.WriteEndArray();
                    w.WriteEndObject();
                }).ConfigureAwait(false);
            }

            _thinking.Append(thinking);
            await EventAsync(request, "response.reasoning_summary_text.delta", w =>
            {
                w.WriteString("item_id", _reasoningId);
                w.WriteNumber("output_index", _outputIndex);
                w.WriteNumber("summary_index", 0);
                w.WriteString("delta", thinking);
            }).ConfigureAwait(false);
        }

        if (chunk.Content.Length > 0)
        {
            await FinishReasoningAsync(request).ConfigureAwait(false);
            if (!_contentStarted)
            {
                _contentStarted = true;
                await EventAsync(request, "response.output_item.added", w =>
                {
                    w.WriteNumber("output_index", _outputIndex);
                    w.WriteStartObject("item");
                    w.WriteString("id", _itemId);
                    w.WriteString("type", "message");
                    w.WriteString("status", "in_progress");
                    w.WriteString("role", "assistant");
                    w.WriteStartArray("content");
                    w.WriteEndArray();
                    w.WriteEndObject();
                }).ConfigureAwait(false);
                await EventAsync(request, "response.content_part.added", w =>
                {
                    WriteTextRef(w);
                    w.WritePropertyName("part");
                    WriteTextPart(w, string.Empty);
                }).ConfigureAwait(false);
            }

            _text.Append(chunk.Content);
            await EventAsync(request, "response.output_text.delta", w =>
            {
                WriteTextRef(w);
                w.WriteString("delta", chunk.Content);
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            }).ConfigureAwait(false);
        }
    }

    public override async Task DoneAsync(SimRequest request, ChatResult result)
    {
        if (!_stream)
        {
            var completedAt = _time.GetUtcNow().ToUnixTimeSeconds();
            await EncodeAsync(request.Http, StatusCodes.Status200OK, "application/json", w => WriteResponse(w, "completed", result.CreatedAt.ToUnixTimeSeconds(), completedAt, o =>
            {
                if (!string.IsNullOrEmpty(result.Thinking))
                {
                    WriteReasoningItem(o, "rs_" + _responseId, result.Thinking);
                }

                WriteMessageItem(o, result.Content);
            }, result)).ConfigureAwait(false);
            return;
        }

        await StartAsync(request).ConfigureAwait(false);
        await FinishReasoningAsync(request).ConfigureAwait(false);
        var text = _text.ToString();
        if (_contentStarted)
        {
            await EventAsync(request, "response.output_text.done", w =>
            {
                WriteTextRef(w);
                w.WriteString("text", text);
                w.WriteStartArray("logprobs");
                w.WriteEndArray();
            }).ConfigureAwait(false);
            await EventAsync(request, "response.content_part.done", w =>
            {
                WriteTextRef(w);
                w.WritePropertyName("part");
                WriteTextPart(w, text);
            }).ConfigureAwait(false);
            await EventAsync(request, "response.output_item.done", w =>
            {
                w.WriteNumber("output_index", _outputIndex);
                w.WritePropertyName("item");
                WriteMessageItem(w, text);
            }).ConfigureAwait(false);
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        await EventAsync(request, "response.completed", w =>
        {
            w.WritePropertyName("response");
            WriteResponse(w, "completed", now, now, o =>
            {
                if (_reasoningItem is not null)
                {
                    o.WriteRawValue(_reasoningItem, skipInputValidation: true);
                }

                if (_contentStarted)
                {
                    WriteMessageItem(o, text);
                }
            }, result);
        }).ConfigureAwait(false);
    }

    private async Task StartAsync(SimRequest request)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var name in s_startEvents)
        {
            await EventAsync(request, name, w =>
            {
                w.WritePropertyName("response");
                WriteResponse(w, "in_progress", now, null, _ => { }, null);
            }).ConfigureAwait(false);
        }
    }

    private async Task FinishReasoningAsync(SimRequest request)
    {
        if (_reasoningId is null || _reasoningItem is not null)
        {
            return;
        }

        var thinking = _thinking.ToString();
        _reasoningItem = Responses.Serialize(w => WriteReasoningItem(w, _reasoningId, thinking));
        await EventAsync(request, "response.reasoning_summary_text.done", w =>
        {
            w.WriteString("item_id", _reasoningId);
            w.WriteNumber("output_index", _outputIndex);
            w.WriteNumber("summary_index", 0);
            w.WriteString("text", thinking);
        }).ConfigureAwait(false);
        await EventAsync(request, "response.output_item.done", w =>
        {
            w.WriteNumber("output_index", _outputIndex);
            w.WritePropertyName("item");
            w.WriteRawValue(_reasoningItem, skipInputValidation: true);
        }).ConfigureAwait(false);
        _outputIndex++;
    }

    /// <summary>One event whose data carries its type and the next sequence number.</summary>
    private Task EventAsync(SimRequest request, string name, Action<Utf8JsonWriter> fields)
    {
        var sequence = _sequence++;
        return WriteEventAsync(request, name, w =>
        {
            w.WriteStartObject();
            w.WriteString("type", name);
            w.WriteNumber("sequence_number", sequence);
            fields(w);
            w.WriteEndObject();
        });
    }

    private void WriteTextRef(Utf8JsonWriter w)
    {
        w.WriteString("item_id", _itemId);
        w.WriteNumber("output_index", _outputIndex);
        w.WriteNumber("content_index", 0);
    }

    /// <summary>The response object: the request's parameters echoed, the output, and usage once completed.</summary>
    private void WriteResponse(Utf8JsonWriter w, string status, long createdAt, long? completedAt, Action<Utf8JsonWriter> output, ChatResult? result)
    {
        w.WriteStartObject();
        w.WriteString("id", _responseId);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", createdAt);
        WriteNullable(w, "completed_at", completedAt);
        w.WriteString("status", status);
        w.WriteNull("incomplete_details");
        w.WriteString("model", _model);
        w.WriteNull("previous_response_id");
        if (_request.GetString("instructions") is { Length: > 0 } instructions)
        {
            w.WriteString("instructions", instructions);
        }
        else
        {
            w.WriteNull("instructions");
        }

        w.WriteStartArray("output");
        output(w);
        w.WriteEndArray();
        w.WriteNull("error");
        w.WriteStartArray("tools");
        w.WriteEndArray();
        w.WriteString("tool_choice", "auto");
        w.WriteString("truncation", _request.GetString("truncation") ?? "disabled");
        w.WriteBoolean("parallel_tool_calls", true);
        w.WriteStartObject("text");
        w.WritePropertyName("format");
        if (_request.Get("text") is { ValueKind: JsonValueKind.Object } text && RequestBody.Property(text, "format") is { ValueKind: JsonValueKind.Object } format)
        {
            format.WriteTo(w);
        }
        else
        {
            w.WriteStartObject();
            w.WriteString("type", "text");
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteNumber("top_p", Number("top_p"));
        w.WriteNumber("presence_penalty", 0);
        w.WriteNumber("frequency_penalty", 0);
        w.WriteNumber("top_logprobs", 0);
        w.WriteNumber("temperature", Number("temperature"));
        var reasoning = _request.Get("reasoning") is { ValueKind: JsonValueKind.Object } r ? r : (JsonElement?)null;
        var effort = reasoning is { } e ? Text(e, "effort") : null;
        var summary = reasoning is { } s ? Text(s, "summary") : null;
        if (string.IsNullOrEmpty(effort) && string.IsNullOrEmpty(summary))
        {
            w.WriteNull("reasoning");
        }
        else
        {
            w.WriteStartObject("reasoning");
            WriteOptional(w, "effort", effort, _stream);
            WriteOptional(w, "summary", summary, _stream);
            w.WriteEndObject();
        }

        if (result is null)
        {
            w.WriteNull("usage");
        }
        else
        {
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", result.PromptEvalCount);
            w.WriteNumber("output_tokens", result.EvalCount);
            w.WriteNumber("total_tokens", result.PromptEvalCount + result.EvalCount);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", 0);
            w.WriteEndObject();
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", 0);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        WriteNullable(w, "max_output_tokens", _request.Get("max_output_tokens") is { ValueKind: JsonValueKind.Number } max ? max.GetInt64() : null);
        w.WriteNull("max_tool_calls");
        w.WriteBoolean("store", false);
        w.WriteBoolean("background", _request.Get("background") is { ValueKind: JsonValueKind.True });
        w.WriteString("service_tier", "default");
        w.WriteStartObject("metadata");
        w.WriteEndObject();
        w.WriteNull("safety_identifier");
        w.WriteNull("prompt_cache_key");
        w.WriteEndObject();
    }

    private double Number(string name) => _request.Get(name) is { ValueKind: JsonValueKind.Number } value ? value.GetDouble() : 1.0;

    private void WriteMessageItem(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("id", _itemId);
        w.WriteString("type", "message");
        w.WriteString("status", "completed");
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        WriteTextPart(w, text);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteReasoningItem(Utf8JsonWriter w, string id, string thinking)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("type", "reasoning");
        w.WriteStartArray("summary");
        w.WriteStartObject();
        w.WriteString("type", "summary_text");
        w.WriteString("text", thinking);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteString("encrypted_content", thinking);
        w.WriteEndObject();
    }

    private static void WriteTextPart(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteString("text", text);
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteStartArray("logprobs");
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>The streamed response writes a missing reasoning field as null; ToResponse leaves it out.</summary>
    private static void WriteOptional(Utf8JsonWriter w, string name, string? value, bool nullWhenMissing)
    {
        if (!string.IsNullOrEmpty(value))
        {
            w.WriteString(name, value);
        }
        else if (nullWhenMissing)
        {
            w.WriteNull(name);
        }
    }

    /// <summary>A string input is one user message; an array holds message, function_call_output and reasoning items.</summary>
    private static void WriteInput(Utf8JsonWriter w, JsonElement? input)
    {
        switch (input)
        {
            case null:
                return;
            case { ValueKind: JsonValueKind.String } text:
                if (text.GetString() is { Length: > 0 } value)
                {
                    WriteMessage(w, "user", value);
                }

                return;
            case { ValueKind: JsonValueKind.Array } items:
                var i = 0;
                foreach (var item in items.EnumerateArray())
                {
                    WriteItem(w, item, i++);
                }

                return;
            case { } other:
                throw ApiError.BadRequest($"input must be a string or array: json: cannot unmarshal {RequestBody.Kind(other)} into Go value of type []json.RawMessage");
        }
    }

    private static void WriteItem(Utf8JsonWriter w, JsonElement item, int index)
    {
        var type = Text(item, "type") ?? string.Empty;
        if (type.Length == 0 && !string.IsNullOrEmpty(Text(item, "role")))
        {
            type = "message";
        }

        switch (type)
        {
            case "message":
                WriteMessage(w, Text(item, "role") ?? string.Empty, Content(RequestBody.Property(item, "content"), index));
                break;
            case "function_call_output":
                w.WriteStartObject();
                w.WriteString("role", "tool");
                w.WriteString("content", Text(item, "output") ?? string.Empty);
                w.WriteString("tool_call_id", Text(item, "call_id") ?? string.Empty);
                w.WriteEndObject();
                break;
            case "function_call" or "reasoning" or "web_search_call":
                // History of calls and reasoning: the simulator answers in words either way.
                break;
            case "":
                throw ApiError.BadRequest($"input[{index}]: input item missing required 'type' field");
            default:
                throw ApiError.BadRequest($"input[{index}]: unknown input item type: {GoText.Quote(type)}");
        }
    }

    private static string Content(JsonElement? content, int index)
    {
        switch (content)
        {
            case null:
                return string.Empty;
            case { ValueKind: JsonValueKind.String } text:
                return text.GetString()!;
            case { ValueKind: JsonValueKind.Array } parts:
                var sb = new StringBuilder();
                var j = 0;
                foreach (var part in parts.EnumerateArray())
                {
                    switch (Text(part, "type"))
                    {
                        case "input_text" or "output_text":
                            sb.Append(Text(part, "text"));
                            break;
                        case "input_image":
                            break;
                        case "input_file":
                            throw ApiError.BadRequest("file inputs are not currently supported");
                        case var other:
                            throw ApiError.BadRequest($"input[{index}]: content[{j}]: unknown content type: {other}");
                    }

                    j++;
                }

                return sb.ToString();
            case { } other:
                throw ApiError.BadRequest($"input[{index}]: content must be a string or array: json: cannot unmarshal {RequestBody.Kind(other)} into Go value of type []json.RawMessage");
        }
    }

    private static void WriteMessage(Utf8JsonWriter w, string role, string content)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteString("content", content);
        w.WriteEndObject();
    }

    private static string? Text(JsonElement obj, string name) =>
        RequestBody.Property(obj, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
}
