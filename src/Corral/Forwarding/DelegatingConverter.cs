using System.Buffers;

namespace Corral.Forwarding;

/// <summary>A converter that hands everything to <paramref name="inner"/>; a subclass changes only what it must.</summary>
internal abstract class DelegatingConverter(IRelayConverter inner) : IRelayConverter
{
    protected IRelayConverter Inner => inner;

    public bool Streams => inner.Streams;

    public bool Finished => inner.Finished;

    public int PromptTokens => inner.PromptTokens;

    public int CompletionTokens => inner.CompletionTokens;

    public string? Error => inner.Error;

    public virtual void Begin(HttpContext context, HttpResponseMessage upstream) => inner.Begin(context, upstream);

    public virtual void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output) => inner.Convert(chunk, output);

    public virtual ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output) => inner.CompleteAsync(context, output);

    public bool Fail(string message, IBufferWriter<byte> output) => inner.Fail(message, output);
}
