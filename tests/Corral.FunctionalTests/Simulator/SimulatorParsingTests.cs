using Corral.Simulator.Http;
using Corral.Simulator.Models;

namespace Corral.FunctionalTests.Simulator;

public sealed class SimulatorParsingTests
{
    [Theory]
    [InlineData("5m", 300_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("10s", 10_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0", 0)]
    public void TryParseGoDuration_ValidText_ParsesLikeGo(string text, long milliseconds)
    {
        KeepAlive.TryParseGoDuration(text, out var duration, out _).Should().BeTrue();
        duration.Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("3600", "time: missing unit in duration \"3600\"")]
    [InlineData("5x", "time: unknown unit \"x\" in duration \"5x\"")]
    [InlineData("", "time: invalid duration \"\"")]
    public void TryParseGoDuration_InvalidText_FailsWithGosMessage(string text, string error)
    {
        KeepAlive.TryParseGoDuration(text, out _, out var message).Should().BeFalse();
        message.Should().Be(error);
    }

    [Theory]
    [InlineData("llama3.2", "llama3.2:latest")]
    [InlineData("registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("library/qwen3:8b", "qwen3:8b")]
    [InlineData("user/model", "user/model:latest")]
    [InlineData("hf.co/org/model:Q4_K_M", "hf.co/org/model:Q4_K_M")]
    [InlineData("localhost:5000/ns/model", "localhost:5000/ns/model:latest")]
    [InlineData("", null)]
    [InlineData("a/b/c/d", null)]
    [InlineData("bad name", null)]
    public void Normalize_Names_FollowOllamasDefaults(string name, string? expected)
    {
        ModelName.Normalize(name).Should().Be(expected);
    }

    [Fact]
    public void Rfc3339Nano_Times_PrintLikeGo()
    {
        GoText.Rfc3339Nano(new DateTimeOffset(2025, 5, 4, 17, 37, 44, TimeSpan.FromHours(-7)).AddTicks(7_060_150)).Should().Be("2025-05-04T17:37:44.706015-07:00");
        GoText.Rfc3339Nano(new DateTimeOffset(2025, 5, 4, 17, 37, 44, TimeSpan.Zero)).Should().Be("2025-05-04T17:37:44Z");
    }
}
