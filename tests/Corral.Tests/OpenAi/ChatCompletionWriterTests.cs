using System.Text.Json;
using Corral.OpenAi;
using Corral.Usage;

namespace Corral.Tests.OpenAi;

public sealed class ChatCompletionWriterTests
{
    private static readonly FakeTimeProvider s_time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    private static JsonElement Write(JsonElement native, string? modelPrefix = null, TokenUsage? usage = null) =>
        OpenAiJson.Written(writer => ChatCompletionWriter.Write(writer, native, "chatcmpl-test", modelPrefix, s_time, usage ?? new TokenUsage()));

    private static JsonElement Write(string native) => Write(OpenAiJson.Parse(native));

    [Theory]
    [InlineData("o01")]
    [InlineData("o04")]
    [InlineData("o06")]
    [InlineData("o08")]
    [InlineData("o09")]
    [InlineData("o11")]
    public void Write_FixtureUpstreamBody_IsTheFixtureBody(string fixture)
    {
        var root = OpenAiJson.Fixture(fixture);

        var response = Write(root.GetProperty("upstream_ollama_response").GetProperty("body"));

        OpenAiJson.ShouldMatch(response, root.GetProperty("expected").GetProperty("body"));
    }

    [Fact]
    public void Write_IdAndCreated_AreTheGivenIdAndTheUpstreamCreatedAt()
    {
        var native = OpenAiJson.Fixture("o01").GetProperty("upstream_ollama_response").GetProperty("body");

        var response = Write(native);

        response.GetProperty("id").GetString().Should().Be("chatcmpl-test");
        response.GetProperty("created").GetInt64().Should().Be(1702390423, "created_at 2023-12-12T14:13:43.416799Z");
    }

    [Fact]
    public void Write_NoCreatedAt_UsesTheClock()
    {
        var response = Write("""{"model":"m","message":{"role":"assistant","content":"x"},"done":true,"done_reason":"stop"}""");

        response.GetProperty("created").GetInt64().Should().Be(s_time.GetUtcNow().ToUnixTimeSeconds());
    }

    [Theory]
    [InlineData(",\"done_reason\":\"\"")]
    [InlineData("")]
    public void Write_EmptyDoneReason_FinishReasonIsNull(string doneReason)
    {
        var response = Write($$"""{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"x"},"done":true{{doneReason}}}""");

        var choice = response.GetProperty("choices")[0];
        choice.TryGetProperty("finish_reason", out var finish).Should().BeTrue("finish_reason is always present");
        finish.ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Theory]
    [InlineData("length", "length")]
    [InlineData("load", "load")]
    [InlineData("stop", "tool_calls")]
    public void Write_ToolCalls_StopBecomesToolCallsOtherReasonsPass(string doneReason, string finishReason)
    {
        var response = Write($$$"""
            {"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","function":{"index":0,"name":"f","arguments":{} } }]},"done":true,"done_reason":"{{{doneReason}}}"}
            """);

        response.GetProperty("choices")[0].GetProperty("finish_reason").GetString().Should().Be(finishReason);
    }

    [Fact]
    public void Write_ToolCallArguments_AreCompactJsonStringsInTheirOrder()
    {
        var response = Write("""
            {"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"","tool_calls":[
              {"id":"call_a","function":{"index":0,"name":"f","arguments":{ "z": 1, "a": [ true, null ], "s": "caf\u00e9" }}},
              {"id":"call_b","function":{"index":1,"name":"g","arguments":{}}}]},"done":true,"done_reason":"stop"}
            """);

        var calls = response.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls");
        calls.GetArrayLength().Should().Be(2);
        calls[0].GetProperty("function").GetProperty("arguments").GetString().Should().Be("{\"z\":1,\"a\":[true,null],\"s\":\"café\"}");
        calls[1].GetProperty("id").GetString().Should().Be("call_b");
        calls[1].GetProperty("index").GetInt32().Should().Be(1);
        calls[1].GetProperty("type").GetString().Should().Be("function");
        calls[1].GetProperty("function").GetProperty("arguments").GetString().Should().Be("{}");
    }

    [Fact]
    public void Write_ModelPrefix_IsPutBeforeTheModel()
    {
        var native = OpenAiJson.Fixture("o01").GetProperty("upstream_ollama_response").GetProperty("body");

        Write(native, modelPrefix: "gpu").GetProperty("model").GetString().Should().Be("gpu.llama3.2");
    }

    [Fact]
    public void Write_Usage_IsRecordedForTheCaller()
    {
        var native = OpenAiJson.Fixture("o01").GetProperty("upstream_ollama_response").GetProperty("body");
        var usage = new TokenUsage();

        Write(native, usage: usage);

        usage.PromptTokens.Should().Be(26);
        usage.CompletionTokens.Should().Be(298);
    }

    [Fact]
    public void Write_NoThinking_HasNoReasoningKey()
    {
        var response = Write("""{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"x","thinking":""},"done":true,"done_reason":"stop"}""");

        var message = response.GetProperty("choices")[0].GetProperty("message");
        message.TryGetProperty("reasoning", out _).Should().BeFalse();
        message.TryGetProperty("tool_calls", out _).Should().BeFalse();
    }
}
