using System.Text.Json;

namespace Corral.OpenAi;

/// <summary>
/// The fields of one native answer line (chat or generate) that the OpenAI surface needs, as slices of the
/// line itself: strings stay JSON-escaped, so they can be copied into the OpenAI frame without decoding.
/// </summary>
internal ref struct NativeLine
{
    /// <summary>The model name, decoded only when asked for (once per stream, not per line).</summary>
    public string? ModelName;
    public ReadOnlySpan<byte> CreatedAt;
    public ReadOnlySpan<byte> Content;
    public ReadOnlySpan<byte> Thinking;
    public ReadOnlySpan<byte> Response;
    public ReadOnlySpan<byte> ToolCalls;
    public ReadOnlySpan<byte> Logprobs;
    public ReadOnlySpan<byte> DoneReason;
    public ReadOnlySpan<byte> Error;
    public bool HasError;
    public bool Done;
    public int PromptEvalCount;
    public int EvalCount;

    /// <summary>Reads a native line; throws <see cref="JsonException"/> when it is not JSON.</summary>
    public static NativeLine Parse(ReadOnlySpan<byte> line, bool decodeModel)
    {
        var result = default(NativeLine);
        var reader = new Utf8JsonReader(line);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a native answer line is a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadMessage(ref reader, line, ref result);
                }
                else
                {
                    reader.Skip();
                }

                continue;
            }

            var field = Field(ref reader);
            reader.Read();
            switch (field)
            {
                case LineField.Model when decodeModel && reader.TokenType == JsonTokenType.String:
                    result.ModelName = reader.GetString();
                    break;
                case LineField.CreatedAt when reader.TokenType == JsonTokenType.String:
                    result.CreatedAt = reader.ValueSpan;
                    break;
                case LineField.Response when reader.TokenType == JsonTokenType.String:
                    result.Response = reader.ValueSpan;
                    break;
                case LineField.Thinking when reader.TokenType == JsonTokenType.String:
                    result.Thinking = reader.ValueSpan;
                    break;
                case LineField.Done when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                    result.Done = reader.GetBoolean();
                    break;
                case LineField.DoneReason when reader.TokenType == JsonTokenType.String:
                    result.DoneReason = reader.ValueSpan;
                    break;
                case LineField.PromptEvalCount when reader.TokenType == JsonTokenType.Number:
                    result.PromptEvalCount = reader.TryGetInt32(out var p) ? p : 0;
                    break;
                case LineField.EvalCount when reader.TokenType == JsonTokenType.Number:
                    result.EvalCount = reader.TryGetInt32(out var e) ? e : 0;
                    break;
                case LineField.Error when reader.TokenType == JsonTokenType.String:
                    result.Error = reader.ValueSpan;
                    result.HasError = true;
                    break;
                case LineField.Logprobs when reader.TokenType == JsonTokenType.StartArray:
                    result.Logprobs = line[RawRange(ref reader)];
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return result;
    }

    private static void ReadMessage(ref Utf8JsonReader reader, ReadOnlySpan<byte> line, ref NativeLine result)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("content"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    result.Content = reader.ValueSpan;
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("thinking"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    result.Thinking = reader.ValueSpan;
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("tool_calls"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    result.ToolCalls = line[RawRange(ref reader)];
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>Where the value at the reader (an array or object) starts and ends in the line; skips it.</summary>
    private static Range RawRange(ref Utf8JsonReader reader)
    {
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return start..(int)reader.BytesConsumed;
    }

    private static LineField Field(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("model"u8))
        {
            return LineField.Model;
        }

        if (reader.ValueTextEquals("created_at"u8))
        {
            return LineField.CreatedAt;
        }

        if (reader.ValueTextEquals("response"u8))
        {
            return LineField.Response;
        }

        if (reader.ValueTextEquals("thinking"u8))
        {
            return LineField.Thinking;
        }

        if (reader.ValueTextEquals("done"u8))
        {
            return LineField.Done;
        }

        if (reader.ValueTextEquals("done_reason"u8))
        {
            return LineField.DoneReason;
        }

        if (reader.ValueTextEquals("prompt_eval_count"u8))
        {
            return LineField.PromptEvalCount;
        }

        if (reader.ValueTextEquals("eval_count"u8))
        {
            return LineField.EvalCount;
        }

        if (reader.ValueTextEquals("error"u8))
        {
            return LineField.Error;
        }

        return reader.ValueTextEquals("logprobs"u8) ? LineField.Logprobs : LineField.Other;
    }

    private enum LineField
    {
        Other,
        Model,
        CreatedAt,
        Response,
        Thinking,
        Done,
        DoneReason,
        PromptEvalCount,
        EvalCount,
        Error,
        Logprobs,
    }
}
