using System.Buffers;

namespace Corral.Forwarding;

/// <summary>
/// A converter that needs the whole answer before it can write anything (a translation to another shape): it
/// collects the body, bounded, and writes its own answer when the body ended.
/// </summary>
internal abstract class BufferingConverter : IRelayConverter
{
    /// <summary>The largest answer collected; a larger one fails rather than exhaust memory.</summary>
    public const int MaxBytes = 256 * 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _body = new(4096);
    private bool _tooLarge;

    public bool Streams => false;

    public bool Finished => false;

    public virtual int PromptTokens => 0;

    public virtual int CompletionTokens => 0;

    public virtual string? Error => null;

    public virtual void Begin(HttpContext context, HttpResponseMessage upstream)
    {
    }

    public void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
    {
        if (_body.WrittenCount + (long)chunk.Length > MaxBytes)
        {
            _tooLarge = true;
            return;
        }

        _body.Write(chunk);
    }

    public async ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_tooLarge)
        {
            await Pipeline.ErrorWriter.WriteAsync(context, Pipeline.ProxyError.BadGateway($"the backend's answer is larger than {MaxBytes / (1024 * 1024)} MB"));
            return false;
        }

        return await AnswerAsync(context, _body.WrittenMemory);
    }

    public bool Fail(string message, IBufferWriter<byte> output) => false;

    /// <summary>Writes the answer for the whole body; false when it was not a usable answer.</summary>
    protected abstract ValueTask<bool> AnswerAsync(HttpContext context, ReadOnlyMemory<byte> body);
}
