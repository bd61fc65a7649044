using System.Text.Json;
using Corral.Usage;

namespace Corral.OpenAi;

/// <summary>A native non-streamed <c>/api/chat</c> answer as an OpenAI <c>chat.completion</c>.</summary>
internal static class ChatCompletionWriter
{
    public static void Write(Utf8JsonWriter writer, JsonElement native, string id, string? modelPrefix, TimeProvider time, TokenUsage usage)
    {
        var message = JsonKinds.Get(native, "message") ?? default;
        var toolCalls = message.ValueKind == JsonValueKind.Object && JsonKinds.Get(message, "tool_calls") is { ValueKind: JsonValueKind.Array } calls && calls.GetArrayLength() > 0 ? calls : (JsonElement?)null;
        usage.PromptTokens = Int(native, "prompt_eval_count");
        usage.CompletionTokens = Int(native, "eval_count");

        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "chat.completion");
        writer.WriteNumber("created", Created(native, time));
        writer.WriteString("model", Model(native, modelPrefix));
        writer.WriteString("system_fingerprint", "fp_ollama");
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", 0);
        writer.WriteStartObject("message");
        writer.WriteString("role", String(message, "role") ?? "assistant");
        writer.WriteString("content", String(message, "content") ?? string.Empty);
        if (String(message, "thinking") is { Length: > 0 } thinking)
        {
            writer.WriteString("reasoning", thinking);
        }

        if (toolCalls is { } tc)
        {
            writer.WritePropertyName("tool_calls");
            ToolCalls.WriteOpenAi(writer, tc);
        }

        writer.WriteEndObject();
        var reason = String(native, "done_reason");
        if (reason is null or "")
        {
            writer.WriteNull("finish_reason");
        }
        else
        {
            writer.WriteString("finish_reason", reason == "stop" && toolCalls is not null ? "tool_calls" : reason);
        }

        if (JsonKinds.Get(native, "logprobs") is { ValueKind: JsonValueKind.Array } logprobs)
        {
            writer.WriteStartObject("logprobs");
            writer.WritePropertyName("content");
            logprobs.WriteTo(writer);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteEndObject();
    }

    public static void WriteUsage(Utf8JsonWriter writer, TokenUsage usage)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.PromptTokens);
        writer.WriteNumber("completion_tokens", usage.CompletionTokens);
        writer.WriteNumber("total_tokens", usage.TotalTokens);
        writer.WriteEndObject();
    }

    public static long Created(JsonElement native, TimeProvider time) =>
        OpenAiTime.UnixSeconds(String(native, "created_at")) ?? time.GetUtcNow().ToUnixTimeSeconds();

    public static string Model(JsonElement native, string? modelPrefix)
    {
        var model = String(native, "model") ?? string.Empty;
        return modelPrefix is null ? model : modelPrefix + "." + model;
    }

    public static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && JsonKinds.Get(obj, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    public static int Int(JsonElement obj, string name) =>
        JsonKinds.Get(obj, name) is { ValueKind: JsonValueKind.Number } value && value.TryGetInt32(out var n) ? n : 0;
}
