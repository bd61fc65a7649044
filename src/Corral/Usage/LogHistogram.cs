using System.Buffers;
using System.Runtime.CompilerServices;

namespace Corral.Usage;

/// <summary>
/// Counts of durations in logarithmic buckets of ratio 1.05 (the log buckets of DDSketch), so that the histograms
/// of any grouping merge by adding counts and a percentile read back from merged buckets is within 2.5% of the
/// true value: a bucket's geometric middle is at most √1.05 − 1 ≈ 2.47% from any value in it. Values are in
/// microseconds: bucket 0 holds values under 1 µs, bucket b ≥ 1 holds [1.05^(b−1), 1.05^b). Ten minutes is
/// bucket 415. Stored sparse (<see cref="Encode"/>): a format byte, then (bucket gap, count) pairs as varints,
/// about 2–3 bytes per occupied bucket. Not thread-safe.
/// </summary>
internal sealed class LogHistogram
{
    /// <summary>The ratio of a bucket's upper bound to its lower bound.</summary>
    public const double Ratio = 1.05;

    /// <summary>The last bucket; larger values are counted in it (1.05^1022 µs is beyond any duration).</summary>
    public const int MaxBucket = 1023;

    private const byte FormatVersion = 1;

    private static readonly double s_logRatio = Math.Log(Ratio);

    // Dense counts of the buckets _first .. _first + _used - 1; usually a narrow range.
    private long[] _counts = [];
    private int _first;
    private int _used;

    /// <summary>Values counted.</summary>
    public long Count { get; private set; }

    /// <summary>The bucket of a value in microseconds.</summary>
    public static int BucketOf(double microseconds) =>
        microseconds < 1 || double.IsNaN(microseconds) ? 0 : (int)Math.Min(MaxBucket, 1 + Math.Floor(Math.Log(microseconds) / s_logRatio));

    /// <summary>The value a bucket stands for, in microseconds: its geometric middle (0 for bucket 0).</summary>
    public static double MiddleOf(int bucket) => bucket <= 0 ? 0 : Math.Pow(Ratio, bucket - 0.5);

    /// <summary>Counts one value in milliseconds.</summary>
    public void AddMilliseconds(double milliseconds) => Add(BucketOf(milliseconds * 1000), 1);

    /// <summary>Adds <paramref name="count"/> values to a bucket.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(int bucket, long count)
    {
        if (count <= 0)
        {
            return;
        }

        bucket = Math.Clamp(bucket, 0, MaxBucket);
        Include(bucket);
        _counts[bucket - _first] += count;
        Count += count;
    }

    /// <summary>Adds every count of <paramref name="other"/>.</summary>
    public void Merge(LogHistogram other)
    {
        if (other._used == 0)
        {
            return;
        }

        // Room for the other's whole range first, then one plain loop over it (most of its buckets are empty).
        Include(other._first);
        Include(other._first + other._used - 1);
        var counts = _counts.AsSpan(other._first - _first, other._used);
        var added = other._counts.AsSpan(0, other._used);
        for (var i = 0; i < added.Length; i++)
        {
            counts[i] += added[i];
        }

        Count += other.Count;
    }

    /// <summary>Adds the counts of a histogram stored by <see cref="Encode"/>; an empty or unknown blob adds nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MergeEncoded(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < 1 || encoded[0] != FormatVersion)
        {
            return;
        }

        var position = 1;
        var bucket = -1;
        while (position < encoded.Length)
        {
            bucket += (int)ReadVarint(encoded, ref position);
            var count = (long)ReadVarint(encoded, ref position);
            Add(bucket, count);
        }
    }

    /// <summary>The most bytes <see cref="EncodeTo"/> may write.</summary>
    public int MaxEncodedLength => 1 + (_used * 20);

    /// <summary>The sparse form, for storage; see the class summary.</summary>
    public byte[] Encode()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxEncodedLength);
        try
        {
            return buffer.AsSpan(0, EncodeTo(buffer)).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the sparse form into <paramref name="destination"/> (at least <see cref="MaxEncodedLength"/> bytes); returns its length.</summary>
    public int EncodeTo(Span<byte> destination)
    {
        destination[0] = FormatVersion;
        var length = 1;
        var previous = -1;
        for (var i = 0; i < _used; i++)
        {
            if (_counts[i] == 0)
            {
                continue;
            }

            var bucket = _first + i;
            length += WriteVarint(destination[length..], (ulong)(bucket - previous));
            length += WriteVarint(destination[length..], (ulong)_counts[i]);
            previous = bucket;
        }

        return length;
    }

    /// <summary>
    /// The value at quantile <paramref name="quantile"/> (0.5 is the median: the value of rank ⌈n/2⌉), in
    /// milliseconds, as the middle of its bucket; null when nothing was counted.
    /// </summary>
    public double? QuantileMilliseconds(double quantile)
    {
        if (Count == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * Count));
        long seen = 0;
        for (var i = 0; i < _used; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return MiddleOf(_first + i) / 1000;
            }
        }

        return MiddleOf(_first + _used - 1) / 1000;
    }

    /// <summary>Forgets every count, keeping the memory for reuse.</summary>
    public void Clear()
    {
        Array.Clear(_counts, 0, _used);
        _used = 0;
        Count = 0;
    }

    private void Include(int bucket)
    {
        if (_used == 0)
        {
            if (_counts.Length == 0)
            {
                _counts = new long[16];
            }

            _first = bucket;
            _used = 1;
            return;
        }

        if (bucket < _first)
        {
            var shift = _first - bucket;
            var needed = _used + shift;
            var counts = needed <= _counts.Length ? _counts : new long[Math.Max(needed, _counts.Length * 2)];
            Array.Copy(_counts, 0, counts, shift, _used);
            Array.Clear(counts, 0, shift);
            _counts = counts;
            _first = bucket;
            _used = needed;
        }
        else if (bucket >= _first + _used)
        {
            var needed = bucket - _first + 1;
            if (needed > _counts.Length)
            {
                Array.Resize(ref _counts, Math.Max(needed, _counts.Length * 2));
            }

            // Slots past _used are always zero: Clear and the shift above zero what they leave behind.
            _used = needed;
        }
    }

    private static int WriteVarint(Span<byte> destination, ulong value)
    {
        var length = 0;
        while (value >= 0x80)
        {
            destination[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[length++] = (byte)value;
        return length;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> source, ref int position)
    {
        ulong value = 0;
        var shift = 0;
        while (position < source.Length)
        {
            var b = source[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80 || shift >= 63)
            {
                break;
            }

            shift += 7;
        }

        return value;
    }
}
