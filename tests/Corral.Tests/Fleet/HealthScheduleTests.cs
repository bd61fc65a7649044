using Corral.Fleet;

namespace Corral.Tests.Fleet;

public sealed class HealthScheduleTests
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(-1, 4000)]
    [InlineData(0, 5000)]
    [InlineData(0.5, 5500)]
    [InlineData(1, 6000)]
    [InlineData(7, 6000)]
    public void NextDelay_Closed_IntervalWithinTwentyPercentJitter(double jitter, double expectedMs)
    {
        HealthSchedule.NextDelay(open: false, 0, s_interval, jitter).TotalMilliseconds.Should().BeApproximately(expectedMs, 1e-6);
    }

    [Fact]
    public void NextDelay_Open_StartsAtOneSecondAndDoublesUpToTheInterval()
    {
        var delays = Enumerable.Range(0, 6).Select(n => HealthSchedule.NextDelay(open: true, n, s_interval, jitter: 1).TotalSeconds);

        delays.Should().Equal(1, 2, 4, 5, 5, 5);
    }

    [Fact]
    public void NextDelay_OpenWithIntervalBelowOneSecond_RetriesEveryInterval()
    {
        var interval = TimeSpan.FromMilliseconds(200);

        HealthSchedule.NextDelay(open: true, 0, interval, jitter: 0).Should().Be(interval);
        HealthSchedule.NextDelay(open: true, 3, interval, jitter: 0).Should().Be(interval);
    }

    [Fact]
    public void NextDelay_OpenAfterManyFailures_StaysAtTheInterval()
    {
        HealthSchedule.NextDelay(open: true, int.MaxValue, s_interval, jitter: 0).Should().Be(s_interval);
        HealthSchedule.NextDelay(open: true, -3, s_interval, jitter: 0).Should().Be(HealthSchedule.FirstRetry);
    }

    [Fact]
    public void NextDelay_ZeroInterval_NeverZero()
    {
        HealthSchedule.NextDelay(open: false, 0, TimeSpan.Zero, jitter: -1).Should().BePositive();
        HealthSchedule.NextDelay(open: true, 0, TimeSpan.Zero, jitter: 0).Should().BePositive();
    }
}
