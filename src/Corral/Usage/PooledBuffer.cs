using System.Buffers;

namespace Corral.Usage;

/// <summary>
/// A growable byte buffer on <see cref="ArrayPool{T}"/>, reused from write to write by one thread. A buffer that
/// grew for an unusually large item (a logged prompt of megabytes) goes back to the pool at the next
/// <see cref="Clear"/>, so one large line does not pin its memory for ever.
/// </summary>
internal sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private readonly int _initialSize;
    private byte[] _array;
    private int _count;

    public PooledBuffer(int initialSize)
    {
        _initialSize = initialSize;
        _array = ArrayPool<byte>.Shared.Rent(initialSize);
    }

    public int Count => _count;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _count);

    public void Advance(int count) => _count += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _array.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _array.AsSpan(_count);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _count += bytes.Length;
    }

    /// <summary>Forgets what was written; returns an oversized array to the pool.</summary>
    public void Clear()
    {
        _count = 0;
        if (_array.Length > 4 * _initialSize)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = ArrayPool<byte>.Shared.Rent(_initialSize);
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_array);
        _array = [];
        _count = 0;
    }

    private void Reserve(int sizeHint)
    {
        var needed = _count + Math.Max(sizeHint, 1);
        if (needed <= _array.Length)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _array.Length * 2));
        _array.AsSpan(0, _count).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = larger;
    }
}
