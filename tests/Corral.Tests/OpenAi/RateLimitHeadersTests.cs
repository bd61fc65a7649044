using Corral.Access;
using Corral.OpenAi;
using Microsoft.AspNetCore.Http;

namespace Corral.Tests.OpenAi;

public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(0.25, "250ms")]
    [InlineData(1, "1s")]
    [InlineData(1.5, "1.5s")]
    [InlineData(59.999, "59.999s")]
    [InlineData(60, "1m0s")]
    [InlineData(360, "6m0s")]
    [InlineData(3723, "1h2m3s")]
    [InlineData(86400, "24h0m0s")]
    public void GoDuration_AsOpenAiWritesResets(double seconds, string expected) =>
        RateLimitHeaders.GoDuration(TimeSpan.FromSeconds(seconds)).Should().Be(expected);

    [Fact]
    public void Write_RequestsAndTokens_SixHeaders_TokensPerMinuteBeforePerDay()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.Instance.Write(headers, new RateStatus(
            new RateWindow(60, 59, TimeSpan.FromSeconds(1)),
            new RateWindow(10000, 9000, TimeSpan.FromSeconds(6)),
            new RateWindow(100000, 5, TimeSpan.FromHours(2))));

        headers["x-ratelimit-limit-requests"].ToString().Should().Be("60");
        headers["x-ratelimit-remaining-requests"].ToString().Should().Be("59");
        headers["x-ratelimit-reset-requests"].ToString().Should().Be("1s");
        headers["x-ratelimit-limit-tokens"].ToString().Should().Be("10000");
        headers["x-ratelimit-remaining-tokens"].ToString().Should().Be("9000");
        headers["x-ratelimit-reset-tokens"].ToString().Should().Be("6s");
    }

    [Fact]
    public void Write_OnlyADailyTokenLimit_IsTheTokensHeaders()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.Instance.Write(headers, new RateStatus(null, null, new RateWindow(1000, 10, TimeSpan.FromMinutes(6))));

        headers.Should().NotContainKey("x-ratelimit-limit-requests");
        headers["x-ratelimit-limit-tokens"].ToString().Should().Be("1000");
        headers["x-ratelimit-reset-tokens"].ToString().Should().Be("6m0s");
    }
}
