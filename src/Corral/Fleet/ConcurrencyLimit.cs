namespace Corral.Fleet;

/// <summary>
/// How many requests of one caller (a key's <c>maxConcurrency</c>) may hold slots at once. A request over it waits
/// in the scheduler's queue, holding no slot, until one of the caller's requests ends. <see cref="InFlight"/> is
/// read and written only under the scheduler's lock; <see cref="Limit"/> may change at any time (the key was
/// changed) and is read there.
/// </summary>
internal sealed class ConcurrencyLimit
{
    private int _limit = int.MaxValue;

    /// <summary>At most this many at once; <see cref="int.MaxValue"/> for no limit.</summary>
    public int Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, value);
    }

    /// <summary>The caller's requests holding a slot now (under the scheduler's lock).</summary>
    public int InFlight { get; internal set; }

    public bool HasRoom => InFlight < Limit;
}
