using System.Buffers;
using System.Text;
using System.Text.Json;
using Corral.Usage;

namespace Corral.Tests.Usage;

public sealed class RequestLogLineTests
{
    [Fact]
    public void Write_FullRecord_EveryFieldInOrder()
    {
        var record = new UsageRecord
        {
            Time = new DateTimeOffset(2026, 11, 21, 11, 37, 0, 123, TimeSpan.FromHours(1)),
            KeyId = "key_abc",
            KeyName = "laptop",
            User = "alice",
            Route = "/v1/chat/completions",
            Model = "llama3.2",
            ResolvedModel = "llama3.2:latest",
            Backend = "gpu1",
            Status = 200,
            PromptTokens = 26,
            CompletionTokens = 31,
            QueueMs = 1.23456,
            TtftMs = 350.5,
            DurationMs = 4883.583458,
            OverheadMs = 0.2,
            BytesIn = 120,
            BytesOut = 4096,
            Attempts = 2,
            FailedOver = ["gpu0"],
        };

        Line(record).Should().Be(
            """{"time":"2026-11-21T10:37:00.123Z","keyId":"key_abc","keyName":"laptop","user":"alice","route":"/v1/chat/completions","model":"llama3.2","resolvedModel":"llama3.2:latest","backend":"gpu1","status":200,"error":null,"promptTokens":26,"completionTokens":31,"queueMs":1.235,"ttftMs":350.5,"durationMs":4883.583,"overheadMs":0.2,"bytesIn":120,"bytesOut":4096,"attempts":2,"cancelled":false}""");
    }

    [Fact]
    public void Write_Unauthenticated_NullsWhereNothingIsKnown()
    {
        var record = new UsageRecord { Time = DateTimeOffset.UnixEpoch, Route = "/api/chat", Status = 401, Error = "unauthorized", DurationMs = 0.04, OverheadMs = 0.04 };

        var line = JsonDocument.Parse(Line(record)).RootElement;

        foreach (var field in new[] { "keyId", "keyName", "user", "model", "resolvedModel", "backend", "ttftMs" })
        {
            line.GetProperty(field).ValueKind.Should().Be(JsonValueKind.Null, field);
        }

        line.GetProperty("error").GetString().Should().Be("unauthorized");
        line.GetProperty("attempts").GetInt32().Should().Be(0);
    }

    [Fact]
    public void Write_WithoutBodies_NoBodyFields_WithThem_Both()
    {
        var plain = RequestMetricsTests.Record();
        var withBodies = plain with { RequestBody = """{"model":"llama3.2","prompt":"why is the sky blue?"}""", ResponseText = "Because of Rayleigh scattering." };

        var without = JsonDocument.Parse(Line(plain)).RootElement;
        var with = JsonDocument.Parse(Line(withBodies)).RootElement;

        without.TryGetProperty("requestBody", out _).Should().BeFalse();
        without.TryGetProperty("responseText", out _).Should().BeFalse();
        with.GetProperty("requestBody").GetString().Should().Be(withBodies.RequestBody);
        with.GetProperty("responseText").GetString().Should().Be(withBodies.ResponseText);
        with.EnumerateObject().Select(p => p.Name).TakeLast(2).Should().Equal("requestBody", "responseText");
    }

    [Fact]
    public void Write_LineBreaksAndQuotesInText_StayOnOneLine_NonAsciiKept()
    {
        var record = RequestMetricsTests.Record() with { Error = "line one\nline two \"quoted\"\r\n", ResponseText = "température 🌡" };

        var text = Line(record);

        text.Should().NotContain("\n").And.NotContain("\r");
        text.Should().Contain("température", "accented text stays readable (characters beyond the BMP are escaped)");
        JsonDocument.Parse(text).RootElement.GetProperty("error").GetString().Should().Be(record.Error);
        JsonDocument.Parse(text).RootElement.GetProperty("responseText").GetString().Should().Be(record.ResponseText);
    }

    [Fact]
    public void Write_TimesOfOneLog_EachItsOwn_AcrossSecondsAndDays()
    {
        var encoded = new EncodedStrings();
        var start = new DateTimeOffset(2026, 12, 31, 23, 59, 59, 998, TimeSpan.Zero);
        string[] expected = ["2026-12-31T23:59:59.998Z", "2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00.000Z", "2027-01-01T00:00:00.001Z", "2027-01-02T00:00:00.001Z"];
        TimeSpan[] offsets = [TimeSpan.Zero, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(3), TimeSpan.FromDays(1) + TimeSpan.FromMilliseconds(3)];

        var times = offsets.Select(o => JsonDocument.Parse(Format(RequestMetricsTests.Record() with { Time = start + o }, encoded)).RootElement.GetProperty("time").GetString());

        times.Should().Equal(expected);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(0.0004, "0")]
    [InlineData(0.0005, "0.001")]
    [InlineData(0.012, "0.012")]
    [InlineData(12.5, "12.5")]
    [InlineData(1000, "1000")]
    [InlineData(1253.8804, "1253.88")]
    [InlineData(86_400_000.123456, "86400000.123")]
    [InlineData(-3, "0")]
    [InlineData(double.NaN, "0")]
    public void Milliseconds_FixedPointToTheMicrosecond_NoTrailingZeros(double milliseconds, string expected)
    {
        var digits = new byte[24];
        var length = RequestLogLine.Milliseconds(milliseconds, digits);

        Encoding.UTF8.GetString(digits, 0, length).Should().Be(expected);
    }

    // The line as the log writes it, with its cache of encoded strings (twice, so the second line comes from the
    // cache) and without one; all three must be the same.
    private static string Line(UsageRecord record)
    {
        var encoded = new EncodedStrings();
        var lines = new[] { Format(record, encoded), Format(record, encoded), Format(record, encoded: null) };
        lines.Distinct().Should().ContainSingle("the cache changes nothing of the line");
        return lines[0];
    }

    private static string Format(UsageRecord record, EncodedStrings? encoded)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using var strings = new Utf8JsonWriter(buffer, RequestLogLine.WriterOptions);
        RequestLogLine.Write(buffer, strings, record, encoded);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
