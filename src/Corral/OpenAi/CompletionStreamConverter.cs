using System.Buffers;

namespace Corral.OpenAi;

/// <summary>
/// Native <c>/api/generate</c> NDJSON to OpenAI <c>text_completion</c> events, as Ollama's layer writes them:
/// every line becomes a chunk (the final one carries <c>finish_reason</c>), <c>created</c> is the time of each
/// chunk, and with <c>include_usage</c> every chunk carries a zeroed usage and a last <c>choices:[]</c> chunk the
/// real one; then <c>[DONE]</c>.
/// </summary>
internal sealed class CompletionStreamConverter(string id, string? modelPrefix, bool includeUsage, TimeProvider time, Fleet.Backend? backend = null) : NativeStreamConverter(backend)
{
    private byte[]? _id;
    private byte[]? _tail;

    protected override bool NeedsModel => _tail is null;

    protected override void Write(scoped in NativeLine chunk, IBufferWriter<byte> output)
    {
        if (_tail is null)
        {
            _id = SseFrames.JsonString(id);
            var model = modelPrefix is null ? chunk.ModelName ?? string.Empty : modelPrefix + "." + chunk.ModelName;
            var tail = new ArrayBufferWriter<byte>(64);
            SseFrames.Append(tail, ",\"model\":"u8);
            SseFrames.Append(tail, SseFrames.JsonString(model));
            SseFrames.Append(tail, ",\"system_fingerprint\":\"fp_ollama\""u8);
            _tail = tail.WrittenSpan.ToArray();
        }

        Start(output);
        SseFrames.Append(output, "[{\"text\":"u8);
        SseFrames.AppendEscapedString(output, chunk.Response);
        SseFrames.Append(output, ",\"index\":0,\"finish_reason\":"u8);
        if (chunk.Done && !chunk.DoneReason.IsEmpty)
        {
            SseFrames.AppendEscapedString(output, chunk.DoneReason);
        }
        else
        {
            SseFrames.Append(output, "null"u8);
        }

        SseFrames.Append(output, "}]"u8);
        SseFrames.Append(output, _tail);
        if (includeUsage)
        {
            SseFrames.Append(output, ",\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,\"total_tokens\":0}"u8);
        }

        SseFrames.Append(output, "}\n\n"u8);

        if (chunk.Done)
        {
            Usage.PromptTokens = chunk.PromptEvalCount;
            Usage.CompletionTokens = chunk.EvalCount;
            if (includeUsage)
            {
                Start(output);
                SseFrames.Append(output, "[]"u8);
                SseFrames.Append(output, _tail);
                SseFrames.Append(output, ",\"usage\":"u8);
                SseFrames.AppendUsage(output, Usage.PromptTokens, Usage.CompletionTokens);
                SseFrames.Append(output, "}\n\n"u8);
            }

            SseFrames.Append(output, SseFrames.Done);
            Done = true;
        }
    }

    private void Start(IBufferWriter<byte> output)
    {
        SseFrames.Append(output, "data: {\"id\":"u8);
        SseFrames.Append(output, _id);
        SseFrames.Append(output, ",\"object\":\"text_completion\",\"created\":"u8);
        SseFrames.AppendNumber(output, time.GetUtcNow().ToUnixTimeSeconds());
        SseFrames.Append(output, ",\"choices\":"u8);
    }
}
