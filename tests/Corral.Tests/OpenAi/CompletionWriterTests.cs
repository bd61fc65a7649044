using System.Text.Json;
using Corral.OpenAi;
using Corral.Usage;

namespace Corral.Tests.OpenAi;

public sealed class CompletionWriterTests
{
    private static readonly FakeTimeProvider s_time = new();

    private static JsonElement Write(JsonElement native, string? modelPrefix = null, TokenUsage? usage = null) =>
        OpenAiJson.Written(writer => CompletionWriter.Write(writer, native, "cmpl-test", modelPrefix, s_time, usage ?? new TokenUsage()));

    [Fact]
    public void Write_FixtureUpstreamBody_IsTheFixtureBody()
    {
        var root = OpenAiJson.Fixture("o12");

        var response = Write(root.GetProperty("upstream_ollama_response").GetProperty("body"));

        OpenAiJson.ShouldMatch(response, root.GetProperty("expected").GetProperty("body"));
    }

    [Fact]
    public void Write_IdAndCreated_AreTheGivenIdAndTheUpstreamCreatedAt()
    {
        var response = Write(OpenAiJson.Fixture("o12").GetProperty("upstream_ollama_response").GetProperty("body"));

        response.GetProperty("id").GetString().Should().Be("cmpl-test");
        response.GetProperty("created").GetInt64().Should().Be(1691176965, "created_at 2023-08-04T19:22:45.499127Z");
    }

    [Theory]
    [InlineData(",\"done_reason\":\"\"")]
    [InlineData("")]
    public void Write_EmptyDoneReason_FinishReasonIsNull(string doneReason)
    {
        var native = OpenAiJson.Parse($$"""{"model":"m","created_at":"2024-01-01T00:00:00Z","response":"x","done":true{{doneReason}}}""");

        var choice = Write(native).GetProperty("choices")[0];

        choice.TryGetProperty("finish_reason", out var finish).Should().BeTrue("finish_reason is always present");
        finish.ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public void Write_ModelPrefixAndUsage_ArePrefixedAndRecorded()
    {
        var usage = new TokenUsage();

        var response = Write(OpenAiJson.Fixture("o12").GetProperty("upstream_ollama_response").GetProperty("body"), "gpu", usage);

        response.GetProperty("model").GetString().Should().Be("gpu.llama3.2");
        usage.PromptTokens.Should().Be(26);
        usage.CompletionTokens.Should().Be(10);
    }
}
