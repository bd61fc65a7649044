using System.Diagnostics;

namespace Corral.Testing;

/// <summary>
/// Waiting for a condition with a deadline, the one way tests wait for state that changes on its own (a health
/// check, a background write): polled every few milliseconds, never a sleep standing in for synchronisation.
/// </summary>
internal static class Eventually
{
    /// <summary>How long a condition may take before the test fails.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    /// <summary>Returns once <paramref name="condition"/> holds, with how long that took; throws naming <paramref name="what"/> at the deadline.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds} s waiting until {what}.");
            }

            await Task.Delay(5);
        }

        return clock.Elapsed;
    }

    /// <summary>As <see cref="WaitUntilAsync(Func{bool}, string, TimeSpan?)"/>, for a condition that is asked over the network.</summary>
    public static async Task<TimeSpan> WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds} s waiting until {what}.");
            }

            await Task.Delay(5);
        }

        return clock.Elapsed;
    }

    /// <summary>
    /// Reads a value until <paramref name="condition"/> holds for it and returns it; at the deadline, fails naming
    /// <paramref name="what"/> and what was last read (<paramref name="describe"/>).
    /// </summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, Func<T, string>? describe = null, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Deadline;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds} s waiting until {what}; last seen: {describe?.Invoke(value) ?? value?.ToString()}");
            }

            await Task.Delay(5);
        }
    }
}
