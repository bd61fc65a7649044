using System.Buffers;

namespace Corral.OpenAi;

/// <summary>
/// Native <c>/api/chat</c> NDJSON to OpenAI <c>chat.completion.chunk</c> events, as Ollama's own layer writes
/// them (ollama-api.md, section B): one id and one <c>created</c> for the stream; <c>role</c> only in the first
/// chunk; thinking as <c>delta.reasoning</c>, split from content into its own chunk; tool calls whole in one
/// delta; a metrics-only final line gives no content chunk; then a finish chunk, a usage chunk when asked, and
/// <c>[DONE]</c>. Works on the line's bytes: content is copied still escaped, never decoded and re-encoded.
/// </summary>
internal sealed class ChatStreamConverter(string id, string? modelPrefix, bool includeUsage, TimeProvider time, Fleet.Backend? backend = null) : NativeStreamConverter(backend)
{
    private byte[]? _head;
    private bool _roleSent;
    private bool _toolCallSent;

    protected override bool NeedsModel => _head is null;

    protected override void Write(scoped in NativeLine chunk, IBufferWriter<byte> output)
    {
        _head ??= Head(chunk);
        var hasContent = !chunk.Content.IsEmpty;
        var hasThinking = !chunk.Thinking.IsEmpty;
        var hasTools = ToolCalls.Any(chunk.ToolCalls);
        var hasLogprobs = !chunk.Logprobs.IsEmpty;

        if (hasThinking && (hasContent || hasTools))
        {
            // Ollama splits reasoning from content: first {reasoning}, then {content|tool_calls}.
            WriteDelta(output, reasoning: chunk.Thinking, content: default, withContent: false, toolCalls: default, chunk.Logprobs);
            WriteDelta(output, reasoning: default, chunk.Content, withContent: true, chunk.ToolCalls, logprobs: default);
        }
        else if (hasContent || hasThinking || hasTools || hasLogprobs || !chunk.Done || !_roleSent)
        {
            WriteDelta(output, chunk.Thinking, chunk.Content, withContent: true, chunk.ToolCalls, chunk.Logprobs);
        }

        if (chunk.Done)
        {
            Usage.PromptTokens = chunk.PromptEvalCount;
            Usage.CompletionTokens = chunk.EvalCount;
            WriteFinish(output, chunk.DoneReason);
            if (includeUsage)
            {
                SseFrames.Append(output, _head);
                SseFrames.Append(output, "],\"usage\":"u8);
                SseFrames.AppendUsage(output, Usage.PromptTokens, Usage.CompletionTokens);
                SseFrames.Append(output, "}\n\n"u8);
            }

            SseFrames.Append(output, SseFrames.Done);
            Done = true;
        }
    }

    private void WriteDelta(IBufferWriter<byte> output, ReadOnlySpan<byte> reasoning, ReadOnlySpan<byte> content, bool withContent, ReadOnlySpan<byte> toolCalls, ReadOnlySpan<byte> logprobs)
    {
        SseFrames.Append(output, _head);
        SseFrames.Append(output, "{\"index\":0,\"delta\":{"u8);
        var comma = false;
        if (!_roleSent)
        {
            SseFrames.Append(output, "\"role\":\"assistant\""u8);
            _roleSent = true;
            comma = true;
        }

        if (withContent)
        {
            SseFrames.Append(output, comma ? ",\"content\":"u8 : "\"content\":"u8);
            SseFrames.AppendEscapedString(output, content);
            comma = true;
        }

        if (!reasoning.IsEmpty)
        {
            SseFrames.Append(output, comma ? ",\"reasoning\":"u8 : "\"reasoning\":"u8);
            SseFrames.AppendEscapedString(output, reasoning);
            comma = true;
        }

        if (ToolCalls.Any(toolCalls))
        {
            SseFrames.Append(output, comma ? ",\"tool_calls\":"u8 : "\"tool_calls\":"u8);
            ToolCalls.AppendOpenAi(output, toolCalls);
            _toolCallSent = true;
        }

        SseFrames.Append(output, "},\"finish_reason\":null"u8);
        if (!logprobs.IsEmpty)
        {
            SseFrames.Append(output, ",\"logprobs\":{\"content\":"u8);
            SseFrames.Append(output, logprobs);
            SseFrames.Append(output, "}"u8);
        }

        SseFrames.Append(output, "}]}\n\n"u8);
    }

    private void WriteFinish(IBufferWriter<byte> output, ReadOnlySpan<byte> doneReason)
    {
        SseFrames.Append(output, _head);
        SseFrames.Append(output, "{\"index\":0,\"delta\":{},\"finish_reason\":"u8);
        if (doneReason.IsEmpty || doneReason.SequenceEqual("stop"u8))
        {
            SseFrames.Append(output, _toolCallSent ? "\"tool_calls\""u8 : "\"stop\""u8);
        }
        else
        {
            SseFrames.AppendEscapedString(output, doneReason);
        }

        SseFrames.Append(output, "}]}\n\n"u8);
    }

    /// <summary>Everything of a chunk up to its choices, fixed for the whole stream.</summary>
    private byte[] Head(in NativeLine first)
    {
        var created = OpenAiTime.UnixSeconds(System.Text.Encoding.UTF8.GetString(first.CreatedAt)) ?? time.GetUtcNow().ToUnixTimeSeconds();
        var model = modelPrefix is null ? first.ModelName ?? string.Empty : modelPrefix + "." + first.ModelName;
        var head = new ArrayBufferWriter<byte>(160);
        SseFrames.Append(head, "data: {\"id\":"u8);
        SseFrames.Append(head, SseFrames.JsonString(id));
        SseFrames.Append(head, ",\"object\":\"chat.completion.chunk\",\"created\":"u8);
        SseFrames.AppendNumber(head, created);
        SseFrames.Append(head, ",\"model\":"u8);
        SseFrames.Append(head, SseFrames.JsonString(model));
        SseFrames.Append(head, ",\"system_fingerprint\":\"fp_ollama\",\"choices\":["u8);
        return head.WrittenSpan.ToArray();
    }
}
