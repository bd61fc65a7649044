using System.Text.Json;
using Corral.Usage;

namespace Corral.OpenAi;

/// <summary>A native non-streamed <c>/api/generate</c> answer as an OpenAI <c>text_completion</c>.</summary>
internal static class CompletionWriter
{
    public static void Write(Utf8JsonWriter writer, JsonElement native, string id, string? modelPrefix, TimeProvider time, TokenUsage usage)
    {
        usage.PromptTokens = ChatCompletionWriter.Int(native, "prompt_eval_count");
        usage.CompletionTokens = ChatCompletionWriter.Int(native, "eval_count");
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "text_completion");
        writer.WriteNumber("created", ChatCompletionWriter.Created(native, time));
        writer.WriteString("model", ChatCompletionWriter.Model(native, modelPrefix));
        writer.WriteString("system_fingerprint", "fp_ollama");
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteString("text", ChatCompletionWriter.String(native, "response") ?? string.Empty);
        writer.WriteNumber("index", 0);
        if (ChatCompletionWriter.String(native, "done_reason") is { Length: > 0 } reason)
        {
            writer.WriteString("finish_reason", reason);
        }
        else
        {
            writer.WriteNull("finish_reason");
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        ChatCompletionWriter.WriteUsage(writer, usage);
        writer.WriteEndObject();
    }
}
