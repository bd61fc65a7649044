namespace Corral.Fleet;

/// <summary>
/// When a backend is checked next. A healthy backend every health interval, jittered by up to ±20% so that the
/// checks of many backends (and of several Corrals) do not fall into step. A backend whose circuit is open is
/// retried sooner: after 1 s (or the interval, if shorter), doubling after each failed retry, never later than
/// one interval, so a backend that comes back is used again within one interval.
/// </summary>
internal static class HealthSchedule
{
    /// <summary>The largest share of the interval that jitter adds or takes away.</summary>
    public const double JitterShare = 0.2;

    /// <summary>The first retry of a backend that just went down.</summary>
    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);

    /// <summary>The shortest delay ever returned, so that a zero interval cannot make a check loop spin.</summary>
    public static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(10);

    /// <summary>The delay before the next check.</summary>
    /// <param name="open">Whether the backend's circuit is open (it is down).</param>
    /// <param name="failuresSinceOpened">Failures recorded since the circuit opened: 0 for the first retry.</param>
    /// <param name="interval">The health interval.</param>
    /// <param name="jitter">A uniform sample in [-1, 1]: -1 checks at 80% of the interval, 1 at 120%.</param>
    public static TimeSpan NextDelay(bool open, int failuresSinceOpened, TimeSpan interval, double jitter)
    {
        if (interval < Shortest)
        {
            interval = Shortest;
        }

        if (!open)
        {
            return interval * (1 + (JitterShare * Math.Clamp(jitter, -1, 1)));
        }

        var first = FirstRetry < interval ? FirstRetry : interval;
        // 2^30 s is far beyond any interval; the cap keeps the shift in range.
        var doublings = Math.Clamp(failuresSinceOpened, 0, 30);
        var backoff = first * (1L << doublings);
        return backoff < interval ? backoff : interval;
    }
}
