using System.Buffers;
using System.Text.Json;

namespace Corral.Forwarding;

/// <summary>
/// An answer of an API that Ollama translates itself (OpenAI's Responses, Anthropic's Messages), relayed as the
/// backend wrote it, one line at a time: a JSON body is one line, a stream is <c>event:</c> and <c>data:</c> lines
/// and the blank lines between events, each flushed as it comes. On the way each JSON line is read once, for
/// <list type="bullet">
/// <item>the <c>model</c> (top level, or in the <c>message</c> or <c>response</c> object an event carries), which
/// gets the name the client asked for when the backend was sent another (a preset's base, a prefixed name);</item>
/// <item>the <c>usage</c> there: <c>input_tokens</c> and <c>output_tokens</c>, the last seen winning (Messages
/// counts them again in <c>message_delta</c>, Responses in <c>response.completed</c>);</item>
/// <item>the <c>type</c> of an event, to know the stream ended with its final event (<paramref name="finalEvents"/>),
/// and an <c>error</c>'s message, for the record.</item>
/// </list>
/// A stream that breaks off ends with an error event in the API's shape (<paramref name="streamError"/>).
/// </summary>
internal sealed class CompatibleAnswerConverter(string? renameTo, Func<string, byte[]> streamError, string[] finalEvents) : IRelayConverter
{
    private readonly byte[]? _model = renameTo is null ? null : JsonSerializer.SerializeToUtf8Bytes(renameTo, JsonRequestBodyJson.Default.String);
    private readonly LineSplitter _lines = new();
    private LineHandler? _handler;
    private bool _sse;
    private bool _failed;
    private bool _ended;
    private string? _error;

    public bool Streams { get; private set; }

    public bool Finished => false;

    public int PromptTokens { get; private set; }

    public int CompletionTokens { get; private set; }

    public string? Error => _error;

    // Made once, on the first chunk: a method group would allocate a delegate per call.
    private LineHandler Handler => _handler ??= Line;

    public void Begin(HttpContext context, HttpResponseMessage upstream)
    {
        var response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        PassThroughConverter.CopyHeaders(upstream, response);
        Streams = upstream.Content.Headers.ContentLength is null;
        _sse = upstream.Content.Headers.NonValidated.TryGetValues("Content-Type", out var type)
            && type.ToString().StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase);
        _failed = !upstream.IsSuccessStatusCode;
        if (_failed)
        {
            _error = $"the backend answered {(int)upstream.StatusCode}";
        }

        if (_model is not null)
        {
            // The name may be longer or shorter than the backend's: the backend's length no longer holds.
            response.ContentLength = null;
        }
    }

    public void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output) => _lines.Split(chunk, output, Handler);

    public ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output)
    {
        _lines.Flush(output, Handler);
        // A stream is whole with its final event; a JSON answer is whole when its body is.
        return ValueTask.FromResult(!_sse || _failed || _ended);
    }

    public bool Fail(string message, IBufferWriter<byte> output)
    {
        _error = message;
        if (!_sse)
        {
            return false;
        }

        output.Write(streamError(message));
        return true;
    }

    private void Line(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        var json = line;
        var offset = 0;
        if (line.StartsWith("data:"u8))
        {
            offset = line.Length > 5 && line[5] == (byte)' ' ? 6 : 5;
            json = line[offset..];
        }

        if (json.IsEmpty || json[0] != (byte)'{')
        {
            output.Write(line);
            return;
        }

        var model = Read(json);
        if (_model is null || model is not { } at)
        {
            output.Write(line);
            return;
        }

        var start = offset + at.Start.Value;
        var end = offset + at.End.Value;
        output.Write(line[..start]);
        output.Write(_model);
        output.Write(line[end..]);
    }

    // One pass over a JSON line: the usage, the event's type, an error's message; returns where the model's string is.
    private Range? Read(ReadOnlySpan<byte> json)
    {
        Range? model = null;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("response"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            model = Field(ref reader) ?? model;
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("type"u8))
                {
                    reader.Read();
                    _ended |= reader.TokenType == JsonTokenType.String && IsFinal(ref reader);
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    ReadError(ref reader);
                }
                else
                {
                    model = Field(ref reader) ?? model;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON after all (or cut): it passes as it is.
        }

        return model;
    }

    private bool IsFinal(ref Utf8JsonReader reader)
    {
        foreach (var name in finalEvents)
        {
            if (reader.ValueTextEquals(name))
            {
                return true;
            }
        }

        return false;
    }

    // A property of the answer or of its message/response object: the model's place, the usage, or skipped.
    private Range? Field(ref Utf8JsonReader reader)
    {
        var isModel = reader.ValueTextEquals("model"u8);
        var isUsage = !isModel && reader.ValueTextEquals("usage"u8);
        reader.Read();
        if (isModel && reader.TokenType == JsonTokenType.String)
        {
            return (int)reader.TokenStartIndex..(int)reader.BytesConsumed;
        }

        if (isUsage && reader.TokenType == JsonTokenType.StartObject)
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var input = reader.ValueTextEquals("input_tokens"u8);
                var outputTokens = !input && reader.ValueTextEquals("output_tokens"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var count))
                {
                    if (input)
                    {
                        PromptTokens = count;
                    }
                    else if (outputTokens)
                    {
                        CompletionTokens = count;
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return null;
        }

        reader.Skip();
        return null;
    }

    // "error": "text" (Ollama's own), or {"message": "text", …} (OpenAI's and Anthropic's envelopes).
    private void ReadError(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            _error = reader.GetString();
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isMessage = reader.ValueTextEquals("message"u8);
            reader.Read();
            if (isMessage && reader.TokenType == JsonTokenType.String)
            {
                _error = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }
    }
}
