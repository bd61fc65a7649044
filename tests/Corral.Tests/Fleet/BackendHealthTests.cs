using Corral.Fleet;

namespace Corral.Tests.Fleet;

public sealed class BackendHealthTests
{
    private static readonly DateTimeOffset s_now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RecordFailure_BelowThreshold_CircuitStaysClosed()
    {
        var health = new BackendHealth(failureThreshold: 3);

        health.RecordFailure(s_now, "connection refused").Should().BeFalse();
        health.RecordFailure(s_now, "connection refused").Should().BeFalse();

        health.IsOpen.Should().BeFalse();
        health.ConsecutiveFailures.Should().Be(2);
    }

    [Fact]
    public void RecordFailure_ReachesThreshold_OpensOnceAndRaisesOpenedOnce()
    {
        var health = new BackendHealth(failureThreshold: 2);
        var opened = 0;
        health.Opened += () => opened++;

        var results = new[]
        {
            health.RecordFailure(s_now, "connection refused"),
            health.RecordFailure(s_now.AddSeconds(1), "connection refused"),
            health.RecordFailure(s_now.AddSeconds(2), "connection refused"),
        };

        results.Should().Equal(false, true, false);
        health.IsOpen.Should().BeTrue();
        health.OpenedAt.Should().Be(s_now.AddSeconds(1));
        opened.Should().Be(1);
    }

    [Fact]
    public void RecordFailure_AnySuccessBetween_CountStartsOver()
    {
        var health = new BackendHealth(failureThreshold: 2);

        health.RecordFailure(s_now, "reset");
        health.RecordSuccess();
        health.RecordFailure(s_now, "reset").Should().BeFalse();

        health.IsOpen.Should().BeFalse();
    }

    [Fact]
    public void RecordSuccess_OpenCircuit_ClosesItAndReportsTheReturn()
    {
        var health = new BackendHealth(failureThreshold: 1);
        health.RecordFailure(s_now, "connection refused");

        health.RecordSuccess().Should().BeTrue();
        health.RecordSuccess().Should().BeFalse("it was already closed");

        health.IsOpen.Should().BeFalse();
        health.ConsecutiveFailures.Should().Be(0);
    }

    [Fact]
    public void RecordSuccess_AfterFailure_LastErrorIsKeptForTheAdminApi()
    {
        var health = new BackendHealth(failureThreshold: 1);
        health.RecordFailure(s_now, "first");
        health.RecordFailure(s_now.AddSeconds(1), "connection refused");

        health.RecordSuccess();

        health.LastError.Should().Be("connection refused");
        health.LastErrorAt.Should().Be(s_now.AddSeconds(1));
    }

    [Fact]
    public void LatencyMs_SeveralSamples_MovingAverageWeighsTheNewestByAFifth()
    {
        var health = new BackendHealth(failureThreshold: 3);
        health.LatencyMs.Should().BeNull("nothing was measured yet");

        health.RecordSuccess(TimeSpan.FromMilliseconds(100));
        health.LatencyMs.Should().Be(100);

        health.RecordSuccess(TimeSpan.FromMilliseconds(200));
        health.LatencyMs.Should().BeApproximately(120, 1e-9);

        health.RecordSuccess();
        health.LatencyMs.Should().BeApproximately(120, 1e-9, "a success without a measurement leaves the average alone");
    }
}
