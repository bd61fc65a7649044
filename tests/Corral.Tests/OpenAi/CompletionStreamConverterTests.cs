using System.Buffers;
using System.Text;
using System.Text.Json;
using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

public sealed class CompletionStreamConverterTests
{
    private static CompletionStreamConverter Converter(FakeTimeProvider time, bool includeUsage = false, string? modelPrefix = null) =>
        new("cmpl-test", modelPrefix, includeUsage, time);

    private static byte[] Run(CompletionStreamConverter converter, params string[] lines)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (var line in lines)
        {
            converter.ConvertLine(Encoding.UTF8.GetBytes(line), output);
        }

        return output.WrittenSpan.ToArray();
    }

    private static string Piece(string text) =>
        $$"""{"model":"llama3.2","created_at":"2023-08-04T19:22:45.499127Z","response":"{{text}}","done":false}""";

    private static string Final(string doneReason = "stop") =>
        $$"""{"model":"llama3.2","created_at":"2023-08-04T19:22:46Z","response":"","done":true,"done_reason":"{{doneReason}}","context":[1,2],"prompt_eval_count":26,"eval_count":10}""";

    private static JsonElement Choice(JsonElement chunk) => chunk.GetProperty("choices")[0];

    [Fact]
    public void Convert_EveryLine_IsAChunkAndTheLastCarriesFinishReason()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero));
        var output = Run(Converter(time), Piece("The"), Piece(" sky"), Final());

        var frames = OpenAiJson.Frames(output);
        frames.Should().HaveCount(4);
        frames[^1].Should().Be("[DONE]");
        var chunks = OpenAiJson.Chunks(output);
        chunks.Select(c => Choice(c).GetProperty("text").GetString()).Should().Equal("The", " sky", string.Empty);
        Choice(chunks[0]).GetProperty("finish_reason").ValueKind.Should().Be(JsonValueKind.Null);
        Choice(chunks[1]).GetProperty("finish_reason").ValueKind.Should().Be(JsonValueKind.Null);
        Choice(chunks[2]).GetProperty("finish_reason").GetString().Should().Be("stop");
        foreach (var chunk in chunks)
        {
            chunk.GetProperty("id").GetString().Should().Be("cmpl-test");
            chunk.GetProperty("object").GetString().Should().Be("text_completion");
            chunk.GetProperty("model").GetString().Should().Be("llama3.2");
            chunk.GetProperty("system_fingerprint").GetString().Should().Be("fp_ollama");
            chunk.GetProperty("created").GetInt64().Should().Be(time.GetUtcNow().ToUnixTimeSeconds());
            Choice(chunk).GetProperty("index").GetInt32().Should().Be(0);
            chunk.TryGetProperty("usage", out _).Should().BeFalse();
        }
    }

    [Fact]
    public void Convert_LengthDoneReason_FinishReasonLength()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero))), Piece("a"), Final("length")));

        Choice(chunks[^1]).GetProperty("finish_reason").GetString().Should().Be("length");
    }

    [Fact]
    public void Convert_Created_IsTheTimeOfEachChunk()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero));
        var converter = Converter(time);
        var first = OpenAiJson.Chunks(Run(converter, Piece("a")))[0];

        time.Advance(TimeSpan.FromSeconds(5));
        var second = OpenAiJson.Chunks(Run(converter, Piece("b")))[0];

        (second.GetProperty("created").GetInt64() - first.GetProperty("created").GetInt64()).Should().Be(5);
    }

    [Fact]
    public void Convert_IncludeUsage_ZeroedUsageOnEachChunkThenRealUsageChunkThenDone()
    {
        var output = Run(Converter(new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero)), includeUsage: true), Piece("The"), Final());

        var frames = OpenAiJson.Frames(output);
        frames.Should().HaveCount(4);
        frames[^1].Should().Be("[DONE]");
        var chunks = OpenAiJson.Chunks(output);
        foreach (var chunk in chunks.Take(2))
        {
            var usage = chunk.GetProperty("usage");
            usage.GetProperty("prompt_tokens").GetInt32().Should().Be(0);
            usage.GetProperty("completion_tokens").GetInt32().Should().Be(0);
            usage.GetProperty("total_tokens").GetInt32().Should().Be(0);
        }

        Choice(chunks[1]).GetProperty("finish_reason").GetString().Should().Be("stop");
        var last = chunks[2];
        last.GetProperty("choices").GetArrayLength().Should().Be(0);
        last.GetProperty("id").GetString().Should().Be("cmpl-test");
        last.GetProperty("usage").GetProperty("prompt_tokens").GetInt32().Should().Be(26);
        last.GetProperty("usage").GetProperty("completion_tokens").GetInt32().Should().Be(10);
        last.GetProperty("usage").GetProperty("total_tokens").GetInt32().Should().Be(36);
    }

    [Fact]
    public void Convert_TextWithEscapes_IsCopiedByteForByte()
    {
        const string escaped = """line\n\"quoted\" \u00e9\\""";

        var output = Run(Converter(new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero))), Piece(escaped));

        Encoding.UTF8.GetString(output).Should().Contain($"\"text\":\"{escaped}\"");
        Choice(OpenAiJson.Chunks(output)[0]).GetProperty("text").GetString().Should().Be("line\n\"quoted\" é\\");
    }

    [Fact]
    public void Convert_ModelPrefix_IsOnEveryChunk()
    {
        var chunks = OpenAiJson.Chunks(Run(Converter(new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero)), includeUsage: true, modelPrefix: "gpu"), Piece("a"), Final()));

        chunks.Should().HaveCount(3);
        chunks.Select(c => c.GetProperty("model").GetString()).Should().AllBe("gpu.llama3.2");
    }

    [Fact]
    public void Convert_UpstreamErrorLine_EndsWithErrorFrameAndNoDone()
    {
        var converter = Converter(new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero)));

        var output = Run(converter, Piece("a"), "{\"error\":\"boom\"}", Final());

        var text = Encoding.UTF8.GetString(output);
        text.Should().EndWith("data: {\"error\":{\"message\":\"boom\",\"type\":\"api_error\",\"param\":null,\"code\":null}}\n\n");
        OpenAiJson.Frames(output).Should().HaveCount(2).And.NotContain("[DONE]");
        converter.Done.Should().BeTrue();
    }

    [Fact]
    public void Convert_GarbageLine_EndsWithErrorFrame()
    {
        var converter = Converter(new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero)));

        var frames = OpenAiJson.Frames(Run(converter, Piece("a"), "<html>502</html>"));

        frames.Should().HaveCount(2).And.NotContain("[DONE]");
        OpenAiJson.Parse(frames[1]).GetProperty("error").GetProperty("type").GetString().Should().Be("api_error");
        converter.Done.Should().BeTrue();
    }

    [Fact]
    public void Convert_FinalLine_FillsUsage()
    {
        var converter = Converter(new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero)));

        Run(converter, Piece("a"), Final());

        converter.Usage.PromptTokens.Should().Be(26);
        converter.Usage.CompletionTokens.Should().Be(10);
    }
}
