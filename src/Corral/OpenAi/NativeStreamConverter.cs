using System.Buffers;
using System.Text.Json;
using Corral.Usage;

namespace Corral.OpenAi;

/// <summary>
/// What every native-to-SSE conversion does with a line before writing its own frames: ignore lines after the
/// end, turn a line that is not JSON or that carries <c>{"error":…}</c> into an error frame that ends the stream.
/// </summary>
internal abstract class NativeStreamConverter : ISseConverter
{
    public bool Done { get; protected set; }

    public TokenUsage Usage { get; } = new();

    /// <summary>True until the per-stream header (model, id) was built from a first line.</summary>
    protected abstract bool NeedsModel { get; }

    public void Convert(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
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

    public void Fail(string message, IBufferWriter<byte> output)
    {
        SseFrames.AppendError(output, message);
        Done = true;
    }

    /// <summary>Writes the frames of one well-formed native line.</summary>
    protected abstract void Write(scoped in NativeLine chunk, IBufferWriter<byte> output);
}
