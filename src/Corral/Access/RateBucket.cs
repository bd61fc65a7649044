namespace Corral.Access;

/// <summary>
/// A token bucket: holds up to <see cref="Capacity"/> units and refills evenly over <see cref="Window"/>, so a key
/// allowed 60 requests a minute may send 60 at once and then one a second. The level may go below zero when
/// tokens are charged after the fact (an answer longer than what was left); the key then waits until it is paid
/// back. Not thread-safe: <see cref="KeyState"/> holds its lock around it.
/// </summary>
internal sealed class RateBucket(long capacity, TimeSpan window, long now)
{
    private double _level = capacity;
    private long _updated = now;

    public long Capacity { get; private set; } = capacity;

    public TimeSpan Window { get; } = window;

    private double PerSecond => Capacity / Window.TotalSeconds;

    /// <summary>Whole units available now (never below zero).</summary>
    public long Remaining => (long)Math.Max(0, Math.Floor(_level));

    /// <summary>A new capacity (the key was changed): what was used stays used.</summary>
    public void Resize(long capacity)
    {
        _level = Math.Min(_level + (capacity - Capacity), capacity);
        Capacity = capacity;
    }

    /// <summary>Adds what was earned since the last look, up to the capacity.</summary>
    public void Refill(long now, long frequency)
    {
        var seconds = (double)(now - _updated) / frequency;
        if (seconds > 0)
        {
            _level = Math.Min(Capacity, _level + (seconds * PerSecond));
            _updated = now;
        }
    }

    /// <summary>Whether <paramref name="units"/> are there to take (after <see cref="Refill"/>).</summary>
    public bool Has(double units) => _level >= units;

    public void Take(double units) => _level -= units;

    /// <summary>How long until <paramref name="units"/> are there.</summary>
    public TimeSpan Until(double units) => _level >= units ? TimeSpan.Zero : TimeSpan.FromSeconds((units - _level) / PerSecond);

    /// <summary>How long until the bucket is full again (OpenAI's "reset").</summary>
    public TimeSpan UntilFull => TimeSpan.FromSeconds(Math.Max(0, Capacity - _level) / PerSecond);
}
