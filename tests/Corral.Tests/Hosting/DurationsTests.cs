using Corral.Hosting;

namespace Corral.Tests.Hosting;

public sealed class DurationsTests
{
    [Theory]
    [InlineData(0, "0")]
    [InlineData(4, "0")]
    [InlineData(5, "0.001")]
    [InlineData(4120, "0.412")]
    [InlineData(4100, "0.41")]
    [InlineData(4000, "0.4")]
    [InlineData(10_000, "1")]
    [InlineData(12_345_678, "1234.568")]
    [InlineData(-50, "0")]
    public void Milliseconds_Ticks_FixedPointWithoutTrailingZeros(long ticks, string expected) =>
        Durations.Milliseconds(TimeSpan.FromTicks(ticks)).Should().Be(expected);

    [Theory]
    [InlineData(2.5, "2.5")]
    [InlineData(600, "600")]
    [InlineData(0.0005, "0.001")]
    public void Seconds_Value_UpToThreeDecimals(double seconds, string expected) =>
        Durations.Seconds(TimeSpan.FromSeconds(seconds)).Should().Be(expected);
}
