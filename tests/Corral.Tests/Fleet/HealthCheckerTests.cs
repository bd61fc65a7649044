using System.Text.Json;
using Corral.Fleet;

namespace Corral.Tests.Fleet;

public sealed class HealthCheckerTests
{
    private static readonly DateTimeOffset s_now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static List<(string ModelKey, DateTimeOffset Until)>? Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return HealthChecker.ReadLoaded(document.RootElement, s_now);
    }

    [Fact]
    public void ReadLoaded_OllamaPs_KeysAndExpiriesWithTheirOffsets()
    {
        var loaded = Read("""
            {"models":[
              {"name":"Llama3.2","model":"llama3.2:latest","size":1,"expires_at":"2025-01-01T13:30:00.123456789+01:00"},
              {"name":"library/phi3","expires_at":"2025-01-01T12:10:00Z"}
            ]}
            """);

        // Go's nanoseconds, to the nearest tick (100 ns).
        loaded.Should().Equal(
            ("llama3.2:latest", new DateTimeOffset(2025, 1, 1, 12, 30, 0, 123, TimeSpan.Zero).AddTicks(4568)),
            ("phi3:latest", s_now.AddMinutes(10)));
    }

    [Fact]
    public void ReadLoaded_KeepAliveForever_FarFutureDateKept()
    {
        var loaded = Read("""{"models":[{"model":"llama3.2","expires_at":"2318-08-19T01:46:42.123456789-07:00"}]}""");

        loaded!.Single().Until.Year.Should().Be(2318);
    }

    [Theory]
    [InlineData("""{"models":[{"model":"llama3.2"}]}""")]
    [InlineData("""{"models":[{"model":"llama3.2","expires_at":"soon"}]}""")]
    [InlineData("""{"models":[{"model":"llama3.2","expires_at":null}]}""")]
    public void ReadLoaded_ExpiryMissingOrUnreadable_FiveMinutesFromNow(string json)
    {
        Read(json).Should().Equal(("llama3.2:latest", s_now.AddMinutes(5)));
    }

    [Fact]
    public void ReadLoaded_EntriesWithoutAName_Skipped()
    {
        Read("""{"models":[{"size":1},{"model":""},42,{"name":"gemma3:1b"}]}""").Should().Equal(("gemma3:1b", s_now.AddMinutes(5)));
    }

    [Theory]
    [InlineData("""{"error":"something"}""")]
    [InlineData("""{"models":null}""")]
    [InlineData("[]")]
    public void ReadLoaded_NoModelList_Null(string json)
    {
        Read(json).Should().BeNull("an answer without a model list must not empty what is known");
    }

    [Fact]
    public void ReadLoaded_NothingLoaded_EmptyList()
    {
        Read("""{"models":[]}""").Should().BeEmpty();
    }
}
