using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

public sealed class OpenAiTimeTests
{
    [Theory]
    [InlineData("2023-08-04T15:52:19.385406455Z", 1691164339)]
    [InlineData("2023-08-04T15:52:19.999999999Z", 1691164339)]
    [InlineData("2023-12-12T14:13:43.416799Z", 1702390423)]
    [InlineData("2023-12-12T14:13:43Z", 1702390423)]
    [InlineData("2023-12-12T16:13:43.123456789+02:00", 1702390423)]
    [InlineData("2023-12-12T06:13:43.5-08:00", 1702390423)]
    public void UnixSeconds_Rfc3339UpToNanoseconds_IsTheWholeSecond(string createdAt, long expected)
    {
        OpenAiTime.UnixSeconds(createdAt).Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0001-01-01T00:00:00Z")]
    [InlineData("yesterday")]
    public void UnixSeconds_MissingZeroOrUnreadable_IsNull(string createdAt)
    {
        OpenAiTime.UnixSeconds(createdAt).Should().BeNull();
    }
}
