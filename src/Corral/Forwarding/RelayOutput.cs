using System.Buffers;
using Corral.Pipeline;

namespace Corral.Forwarding;

/// <summary>
/// The relay's side of the answer: a buffer writer over the response that counts what converters write into it,
/// and hands a copy to the request record when it keeps answers (<c>--log-bodies</c>).
/// </summary>
internal sealed class RelayOutput(IBufferWriter<byte>? inner, RequestRecord? keeper) : IBufferWriter<byte>
{
    private Memory<byte> _last;

    private IBufferWriter<byte> Inner => inner ?? throw new InvalidOperationException("this relay has no reader to write to");

    /// <summary>Bytes written since the start.</summary>
    public long Written { get; private set; }

    /// <summary>Bytes written since the last flush.</summary>
    public long Pending { get; private set; }

    public void Advance(int count)
    {
        if (keeper is not null)
        {
            keeper.KeepAnswer(_last.Span[..count]);
        }

        Inner.Advance(count);
        Written += count;
        Pending += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _last = Inner.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => keeper is null ? Inner.GetSpan(sizeHint) : GetMemory(sizeHint).Span;

    /// <summary>Marks what was written as sent.</summary>
    public void Flushed() => Pending = 0;
}
