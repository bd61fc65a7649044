using System.Buffers;
using System.Text;
using System.Text.Json;
using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

public sealed class ChatStreamConverterTests
{
    private const string ErrorFrame = "data: {\"error\":{\"message\":\"boom\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\n";

    private static readonly FakeTimeProvider s_time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    private static ChatStreamConverter Converter(bool includeUsage = false, string? modelPrefix = null) =>
        new("chatcmpl-test", modelPrefix, includeUsage, s_time);

    private static byte[] Run(ChatStreamConverter converter, params string[] lines)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var line in lines)
        {
            converter.ConvertLine(Encoding.UTF8.GetBytes(line), output);
        }

        return output.WrittenSpan.ToArray();
    }

    private static string Line(string message, bool done = false, string extra = "") =>
        $$"""{"model":"llama3.2","created_at":"2024-05-01T10:00:00.123456789Z","message":{"role":"assistant",{{message}}},"done":{{(done ? "true" : "false")}}{{extra}}}""";

    private static string Content(string text) => Line($"\"content\":\"{text}\"");

    private static string Final(string doneReason = "stop", string message = "\"content\":\"\"") =>
        Line(message, done: true, $",\"done_reason\":\"{doneReason}\",\"prompt_eval_count\":26,\"eval_count\":282");

    private static JsonElement Delta(JsonElement chunk) => chunk.GetProperty("choices")[0].GetProperty("delta");

    private static JsonElement Finish(JsonElement chunk) => chunk.GetProperty("choices")[0].GetProperty("finish_reason");

    private static IEnumerable<string> Keys(JsonElement obj) => obj.EnumerateObject().Select(p => p.Name);

    [Fact]
    public void Convert_FixtureLines_AreTheFixtureFrames()
    {
        var root = OpenAiJson.Fixture("o02");
        var converter = Converter();
        var output = new ArrayBufferWriter<byte>();
        foreach (var line in root.GetProperty("upstream_ollama_response").GetProperty("ndjson").EnumerateArray())
        {
            converter.ConvertLine(OpenAiJson.Line(line), output);
        }

        var frames = OpenAiJson.Frames(output.WrittenSpan);
        var expected = root.GetProperty("expected").GetProperty("sse");
        frames.Should().HaveCount(expected.GetArrayLength());
        for (var i = 0; i < frames.Count; i++)
        {
            if (expected[i].ValueKind == JsonValueKind.String)
            {
                frames[i].Should().Be(expected[i].GetString());
            }
            else
            {
                OpenAiJson.ShouldMatch(OpenAiJson.Parse(frames[i]), expected[i]);
            }
        }

        var chunks = OpenAiJson.Chunks(output.WrittenSpan);
        chunks.Select(c => c.GetProperty("id").GetString()).Should().AllBe("chatcmpl-test");
        chunks.Select(c => c.GetProperty("created").GetInt64()).Should().AllBeEquivalentTo(1691164339L, "the first line's created_at is 2023-08-04T15:52:19.385406455Z");
        converter.Done.Should().BeTrue();
    }

    [Fact]
    public void Convert_Stream_RoleOnlyInFirstChunkAndNoUsageKey()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(), Content("a"), Content("b"), Content("c"), Final()));

        chunks.Should().HaveCount(4);
        Keys(Delta(chunks[0])).Should().Equal("role", "content");
        Delta(chunks[0]).GetProperty("role").GetString().Should().Be("assistant");
        chunks.Skip(1).Select(c => Delta(c).TryGetProperty("role", out _)).Should().AllBeEquivalentTo(false);
        chunks.Select(c => c.TryGetProperty("usage", out _)).Should().AllBeEquivalentTo(false);
        chunks.Select(c => c.GetProperty("object").GetString()).Should().AllBe("chat.completion.chunk");
        chunks.Select(c => c.GetProperty("system_fingerprint").GetString()).Should().AllBe("fp_ollama");
        chunks.Take(3).Select(c => Finish(c).ValueKind).Should().AllBeEquivalentTo(JsonValueKind.Null);
    }

    [Fact]
    public void Convert_ContentWithEscapes_IsCopiedByteForByte()
    {
        const string escaped = """a\nb \"q\" caf\u00e9 \/ \ud83d\ude00 \\""";

        var output = Run(Converter(), Content(escaped));

        Encoding.UTF8.GetString(output).Should().Contain($"\"content\":\"{escaped}\"");
        Delta(OpenAiJson.Chunks(output)[0]).GetProperty("content").GetString().Should().Be("a\nb \"q\" café / 😀 \\");
    }

    [Fact]
    public void Convert_ThinkingEscapes_AreCopiedByteForByte()
    {
        const string escaped = """step\t1 \u2192 \"two\" end""";

        var output = Run(Converter(), Line($"\"content\":\"\",\"thinking\":\"{escaped}\""));

        Encoding.UTF8.GetString(output).Should().Contain($"\"reasoning\":\"{escaped}\"");
    }

    [Fact]
    public void Convert_ThinkingAndContent_SplitsIntoReasoningChunkThenContentChunk()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(), Line("\"content\":\"Hi\",\"thinking\":\"greet\"")));

        chunks.Should().HaveCount(2);
        Keys(Delta(chunks[0])).Should().BeEquivalentTo("role", "reasoning");
        Delta(chunks[0]).GetProperty("reasoning").GetString().Should().Be("greet");
        Keys(Delta(chunks[1])).Should().BeEquivalentTo("content");
        Delta(chunks[1]).GetProperty("content").GetString().Should().Be("Hi");
    }

    [Fact]
    public void Convert_ThinkingOnly_SendsEmptyContentAndReasoning()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(), Content("x"), Line("\"content\":\"\",\"thinking\":\"hmm\"")));

        chunks.Should().HaveCount(2);
        Keys(Delta(chunks[1])).Should().BeEquivalentTo("content", "reasoning");
        Delta(chunks[1]).GetProperty("content").GetString().Should().BeEmpty();
        Delta(chunks[1]).GetProperty("reasoning").GetString().Should().Be("hmm");
    }

    [Fact]
    public void Convert_ToolCalls_SendsWholeCallsAsJsonStringsAndFinishesWithToolCalls()
    {
        const string calls = """[{"id":"call_k3x9q2ab","function":{"index":0,"name":"get_weather","arguments":{"city":"Tokyo","units":{"t":"C"}}}}]""";

        var chunks = OpenAiJson.Chunks(Run(Converter(), Line($"\"content\":\"\",\"tool_calls\":{calls}"), Final()));

        chunks.Should().HaveCount(2);
        var delta = Delta(chunks[0]);
        delta.GetProperty("content").GetString().Should().BeEmpty();
        var call = delta.GetProperty("tool_calls").EnumerateArray().Should().ContainSingle().Subject;
        call.GetProperty("id").GetString().Should().Be("call_k3x9q2ab");
        call.GetProperty("index").GetInt32().Should().Be(0);
        call.GetProperty("type").GetString().Should().Be("function");
        call.GetProperty("function").GetProperty("name").GetString().Should().Be("get_weather");
        call.GetProperty("function").GetProperty("arguments").GetString().Should().Be("{\"city\":\"Tokyo\",\"units\":{\"t\":\"C\"}}");
        Finish(chunks[1]).GetString().Should().Be("tool_calls");
        Keys(Delta(chunks[1])).Should().BeEmpty();
    }

    [Fact]
    public void Convert_ThinkingAndToolCalls_SplitsIntoReasoningChunkThenToolCallChunk()
    {
        const string calls = """[{"id":"call_1","function":{"index":0,"name":"f","arguments":{}}}]""";

        var chunks = OpenAiJson.Chunks(Run(Converter(), Line($"\"content\":\"\",\"thinking\":\"use f\",\"tool_calls\":{calls}")));

        chunks.Should().HaveCount(2);
        Delta(chunks[0]).GetProperty("reasoning").GetString().Should().Be("use f");
        Delta(chunks[0]).TryGetProperty("tool_calls", out _).Should().BeFalse();
        Delta(chunks[1]).TryGetProperty("reasoning", out _).Should().BeFalse();
        Delta(chunks[1]).GetProperty("tool_calls")[0].GetProperty("id").GetString().Should().Be("call_1");
    }

    [Theory]
    [InlineData("stop", "stop")]
    [InlineData("", "stop")]
    [InlineData("length", "length")]
    public void Convert_DoneReason_IsTheFinishReason(string doneReason, string finishReason)
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(), Content("The"), Final(doneReason)));

        var finish = chunks[^1];
        Finish(finish).GetString().Should().Be(finishReason);
        Keys(Delta(finish)).Should().BeEmpty();
    }

    [Fact]
    public void Convert_IncludeUsage_SendsUsageChunkWithNoChoicesBeforeDone()
    {
        var output = Run(Converter(includeUsage: true), Content("The"), Final());

        var frames = OpenAiJson.Frames(output);
        frames.Should().HaveCount(4);
        frames[^1].Should().Be("[DONE]");
        var chunks = OpenAiJson.Chunks(output);
        chunks[0].TryGetProperty("usage", out _).Should().BeFalse();
        chunks[1].TryGetProperty("usage", out _).Should().BeFalse();
        Finish(chunks[1]).GetString().Should().Be("stop");
        var usage = chunks[2];
        usage.GetProperty("choices").GetArrayLength().Should().Be(0);
        usage.GetProperty("id").GetString().Should().Be("chatcmpl-test");
        usage.GetProperty("object").GetString().Should().Be("chat.completion.chunk");
        usage.GetProperty("usage").GetProperty("prompt_tokens").GetInt32().Should().Be(26);
        usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32().Should().Be(282);
        usage.GetProperty("usage").GetProperty("total_tokens").GetInt32().Should().Be(308);
    }

    [Fact]
    public void Convert_FirstLineAlreadyDone_SendsRoleChunkThenFinish()
    {
        var output = Run(Converter(), Final());

        var frames = OpenAiJson.Frames(output);
        frames.Should().HaveCount(3);
        frames[2].Should().Be("[DONE]");
        var chunks = OpenAiJson.Chunks(output);
        Delta(chunks[0]).GetProperty("role").GetString().Should().Be("assistant");
        Delta(chunks[0]).GetProperty("content").GetString().Should().BeEmpty();
        Finish(chunks[0]).ValueKind.Should().Be(JsonValueKind.Null);
        Finish(chunks[1]).GetString().Should().Be("stop");
    }

    [Fact]
    public void Convert_FinalLineWithContent_SendsContentChunkThenFinish()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(), Content("The"), Final(message: "\"content\":\" end\"")));

        chunks.Should().HaveCount(3);
        Delta(chunks[1]).GetProperty("content").GetString().Should().Be(" end");
        Finish(chunks[2]).GetString().Should().Be("stop");
    }

    [Fact]
    public void Convert_Logprobs_AreSentWithTheChunk()
    {
        const string logprobs = """[{"token":"The","logprob":-0.25,"bytes":[84,104,101]}]""";

        var chunks = OpenAiJson.Chunks(Run(Converter(), Line("\"content\":\"The\"", extra: $",\"logprobs\":{logprobs}")));

        var content = chunks[0].GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        JsonElement.DeepEquals(content, OpenAiJson.Parse(logprobs)).Should().BeTrue(content.GetRawText());
    }

    [Fact]
    public void Convert_UpstreamErrorLine_EndsWithErrorFrameAndNoDone()
    {
        var converter = Converter();
        var output = new ArrayBufferWriter<byte>();
        converter.ConvertLine(Encoding.UTF8.GetBytes(Content("The")), output);
        var before = output.WrittenCount;

        converter.ConvertLine("{\"error\":\"boom\"}"u8, output);

        Encoding.UTF8.GetString(output.WrittenSpan[before..]).Should().Be(ErrorFrame);
        OpenAiJson.Frames(output.WrittenSpan).Should().NotContain("[DONE]");
        converter.Done.Should().BeTrue();
    }

    [Fact]
    public void Convert_UpstreamErrorAsFirstLine_IsOnlyTheErrorFrame()
    {
        var converter = Converter();

        var output = Run(converter, "{\"error\":\"boom\"}");

        Encoding.UTF8.GetString(output).Should().Be(ErrorFrame);
        converter.Done.Should().BeTrue();
    }

    [Fact]
    public void Convert_UpstreamErrorWithEscapes_SendsTheDecodedMessage()
    {
        var output = Run(Converter(), Content("x"), """{"error":"model \"x\" failed:\nout of memory \u00e9"}""");

        var error = OpenAiJson.Chunks(output)[^1].GetProperty("error");
        error.GetProperty("message").GetString().Should().Be("model \"x\" failed:\nout of memory é");
        error.GetProperty("type").GetString().Should().Be("api_error");
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"model\":\"llama3.2\",\"message\":{\"content\":\"cut")]
    public void Convert_GarbageLine_EndsWithErrorFrameAndNoDone(string garbage)
    {
        var converter = Converter();

        var output = Run(converter, Content("The"), garbage);

        var frames = OpenAiJson.Frames(output);
        frames.Should().HaveCount(2);
        frames.Should().NotContain("[DONE]");
        var error = OpenAiJson.Parse(frames[1]).GetProperty("error");
        error.GetProperty("message").GetString().Should().NotBeNullOrEmpty();
        error.GetProperty("type").GetString().Should().Be("api_error");
        error.GetProperty("param").ValueKind.Should().Be(JsonValueKind.Null);
        error.GetProperty("code").ValueKind.Should().Be(JsonValueKind.Null);
        converter.Done.Should().BeTrue();
    }

    [Fact]
    public void Convert_AfterDone_WritesNothing()
    {
        var converter = Converter();
        Run(converter, Content("The"), Final());

        Run(converter, Content("late"), Final()).Should().BeEmpty();
    }

    [Fact]
    public void Fail_MidStream_EndsWithErrorFrame()
    {
        var converter = Converter();
        var output = new ArrayBufferWriter<byte>();
        converter.ConvertLine(Encoding.UTF8.GetBytes(Content("The")), output);
        var before = output.WrittenCount;

        converter.Fail("boom", output);

        Encoding.UTF8.GetString(output.WrittenSpan[before..]).Should().Be(ErrorFrame);
        converter.Done.Should().BeTrue();
    }

    [Fact]
    public void Convert_Created_IsTheFirstLinesCreatedAtForEveryChunk()
    {
        var first = """{"model":"llama3.2","created_at":"2023-08-04T15:52:19.385406455Z","message":{"role":"assistant","content":"a"},"done":false}""";
        var later = """{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop"}""";

        var chunks = OpenAiJson.Chunks(Run(Converter(includeUsage: true), first, later));

        chunks.Should().HaveCount(3);
        chunks.Select(c => c.GetProperty("created").GetInt64()).Should().AllBeEquivalentTo(1691164339L);
    }

    [Fact]
    public void Convert_NoCreatedAt_UsesTheClock()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(), """{"model":"llama3.2","message":{"role":"assistant","content":"a"},"done":false}"""));

        chunks[0].GetProperty("created").GetInt64().Should().Be(s_time.GetUtcNow().ToUnixTimeSeconds());
    }

    [Fact]
    public void Convert_ModelPrefix_IsOnEveryChunk()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(includeUsage: true, modelPrefix: "gpu"), Content("a"), Final()));

        chunks.Should().HaveCount(3);
        chunks.Select(c => c.GetProperty("model").GetString()).Should().AllBe("gpu.llama3.2");
    }

    [Fact]
    public void Convert_FinalLine_FillsUsage()
    {
        var converter = Converter();
        Run(converter, Content("a"));
        converter.Usage.TotalTokens.Should().Be(0);

        Run(converter, Final());

        converter.Usage.PromptTokens.Should().Be(26);
        converter.Usage.CompletionTokens.Should().Be(282);
        converter.Usage.TotalTokens.Should().Be(308);
    }
}
