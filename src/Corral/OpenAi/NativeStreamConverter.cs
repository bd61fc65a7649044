using System.Buffers;
using System.Text.Json;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Usage;

namespace Corral.OpenAi;

/// <summary>
/// What every native-to-SSE conversion does with a line before writing its own frames: ignore lines after the
/// end, turn a line that is not JSON or that carries <c>{"error":…}</c> into an error frame that ends the stream,
/// and end a stream that stopped before its final line with an error frame too.
/// </summary>
internal abstract class NativeStreamConverter(Backend? backend) : LineConverter
{
    private string? _error;

    public bool Done { get; protected set; }

    public TokenUsage Usage { get; } = new();

    public override bool Streams => true;

    public override bool Finished => Done;

    public override int PromptTokens => Usage.PromptTokens;

    public override int CompletionTokens => Usage.CompletionTokens;

    public override string? Error => _error;

    /// <summary>True until the per-stream header (model, id) was built from a first line.</summary>
    protected abstract bool NeedsModel { get; }

    public override void Begin(HttpContext context, HttpResponseMessage upstream)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
    }

    public override void ConvertLine(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        if (Done)
        {
            return;
        }

        NativeLine chunk;
        try
        {
            chunk = NativeLine.Parse(line, decodeModel: NeedsModel);
        }
        catch (JsonException)
        {
            Fail("the backend sent a line that is not JSON", output);
            return;
        }

        if (chunk.HasError)
        {
            Fail(SseFrames.DecodeString(chunk.Error), output);
            return;
        }

        Write(chunk, output);
    }

    public override bool Fail(string message, IBufferWriter<byte> output)
    {
        _error ??= message;
        SseFrames.AppendError(output, message);
        Done = true;
        return true;
    }

    protected override ValueTask<bool> EndAsync(HttpContext? context, IBufferWriter<byte> output)
    {
        if (Done)
        {
            return ValueTask.FromResult(_error is null);
        }

        Fail($"{backend?.Describe() ?? "the backend"} ended the stream before its final line", output);
        return ValueTask.FromResult(false);
    }

    /// <summary>Writes the frames of one well-formed native line.</summary>
    protected abstract void Write(scoped in NativeLine chunk, IBufferWriter<byte> output);
}
