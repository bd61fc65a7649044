using System.Buffers.Binary;
using System.Text.Json;
using Corral.OpenAi;
using Corral.Usage;

namespace Corral.Tests.OpenAi;

public sealed class EmbeddingTranslatorTests
{
    private static Translation Run(string fields, out bool base64) =>
        EmbeddingTranslator.Translate(OpenAiJson.Parse($$"""{"model":"all-minilm",{{fields}}}"""), "all-minilm", out base64);

    private static JsonElement Native(string fields) => OpenAiJson.Body(Run(fields, out _));

    private static JsonElement Response(JsonElement native, bool base64, TokenUsage? usage = null) =>
        OpenAiJson.Written(writer => EmbeddingTranslator.WriteResponse(writer, native, "all-minilm", base64, usage ?? new TokenUsage()));

    [Theory]
    [InlineData("o14")]
    [InlineData("o15")]
    public void Translate_FixtureRequest_IsTheFixtureUpstreamRequest(string fixture)
    {
        var root = OpenAiJson.Fixture(fixture);
        var request = root.GetProperty("request").GetProperty("body");

        var translation = EmbeddingTranslator.Translate(request, "all-minilm", out var base64);

        base64.Should().BeFalse();
        OpenAiJson.ShouldMatch(OpenAiJson.Body(translation), root.GetProperty("upstream_request").GetProperty("body"));
    }

    [Fact]
    public void Translate_EmptyStringInput_BecomesListWithEmptyString()
    {
        var input = Native("\"input\":\"\"").GetProperty("input");

        input.ValueKind.Should().Be(JsonValueKind.Array);
        input.EnumerateArray().Select(i => i.GetString()).Should().Equal(string.Empty);
    }

    [Theory]
    [InlineData("\"dimensions\":8")]
    [InlineData("\"input\":[]")]
    [InlineData("\"input\":null")]
    public void Translate_MissingOrEmptyInput_IsInvalidInput(string fields)
    {
        var translation = Run(fields, out _);

        translation.Error.Should().Be("invalid input");
        translation.Body.Should().BeNull();
    }

    [Theory]
    [InlineData("base64", true)]
    [InlineData("BASE64", true)]
    [InlineData("Base64", true)]
    [InlineData("float", false)]
    [InlineData("FLOAT", false)]
    public void Translate_EncodingFormat_IsCaseInsensitive(string format, bool expected)
    {
        var translation = Run($"\"input\":\"x\",\"encoding_format\":\"{format}\"", out var base64);

        translation.Error.Should().BeNull();
        base64.Should().Be(expected);
        OpenAiJson.Body(translation).TryGetProperty("encoding_format", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_NoEncodingFormat_IsFloat()
    {
        Run("\"input\":\"x\"", out var base64).Error.Should().BeNull();

        base64.Should().BeFalse();
    }

    [Fact]
    public void Translate_EmptyEncodingFormat_IsFloat()
    {
        // Ollama checks the format only when it is not empty (middleware/openai.go, EmbeddingsMiddleware).
        var translation = Run("\"input\":\"x\",\"encoding_format\":\"\"", out var base64);

        translation.Error.Should().BeNull();
        base64.Should().BeFalse();
    }

    [Theory]
    [InlineData("int8")]
    [InlineData("floats")]
    public void Translate_UnknownEncodingFormat_IsOllamasExactMessage(string format)
    {
        Run($"\"input\":\"x\",\"encoding_format\":\"{format}\"", out _).Error
            .Should().Be($"Invalid value for 'encoding_format' = {format}. Supported values: ['float', 'base64'].");
    }

    [Fact]
    public void Translate_Dimensions_ArePassed()
    {
        Native("\"input\":[\"a\",\"b\"],\"dimensions\":256").GetProperty("dimensions").GetInt32().Should().Be(256);
    }

    [Fact]
    public void Translate_InputList_IsPassedAsIs()
    {
        var input = Native("\"input\":[\"a\",\"\",\"c\"]").GetProperty("input");

        input.EnumerateArray().Select(i => i.GetString()).Should().Equal("a", string.Empty, "c");
    }

    [Theory]
    [InlineData("o14")]
    [InlineData("o15")]
    public void WriteResponse_FixtureUpstreamBody_IsTheFixtureBody(string fixture)
    {
        var root = OpenAiJson.Fixture(fixture);
        var native = root.GetProperty("upstream_ollama_response").GetProperty("body");

        var response = Response(native, base64: false);

        OpenAiJson.ShouldMatch(response, root.GetProperty("expected").GetProperty("body"));
    }

    [Fact]
    public void WriteResponse_FloatFormat_KeepsTheBackendsNumbersExactly()
    {
        var native = OpenAiJson.Parse("""{"model":"m","embeddings":[[0.010071029,-1.5e-7,3]],"prompt_eval_count":2}""");

        var response = Response(native, base64: false);

        response.GetProperty("data")[0].GetProperty("embedding").GetRawText().Should().Be("[0.010071029,-1.5e-7,3]");
    }

    [Fact]
    public void WriteResponse_Base64Format_DecodesToTheSameFloat32Values()
    {
        var native = OpenAiJson.Fixture("o15").GetProperty("upstream_ollama_response").GetProperty("body");

        var floats = Response(native, base64: false).GetProperty("data");
        var encoded = Response(native, base64: true).GetProperty("data");

        encoded.GetArrayLength().Should().Be(2);
        for (var i = 0; i < floats.GetArrayLength(); i++)
        {
            encoded[i].GetProperty("index").GetInt32().Should().Be(i);
            encoded[i].GetProperty("object").GetString().Should().Be("embedding");
            var bytes = Convert.FromBase64String(encoded[i].GetProperty("embedding").GetString()!);
            var expected = floats[i].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            bytes.Length.Should().Be(expected.Length * sizeof(float));
            var decoded = new float[expected.Length];
            for (var j = 0; j < decoded.Length; j++)
            {
                decoded[j] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(j * sizeof(float)));
            }

            decoded.Should().Equal(expected);
        }
    }

    [Fact]
    public void WriteResponse_Base64Format_IsLittleEndianFloat32()
    {
        var native = OpenAiJson.Parse("""{"model":"m","embeddings":[[1,-2]],"prompt_eval_count":1}""");

        var embedding = Response(native, base64: true).GetProperty("data")[0].GetProperty("embedding").GetString();

        // 1.0f = 00 00 80 3F, -2.0f = 00 00 00 C0 in little-endian order.
        Convert.FromBase64String(embedding!).Should().Equal(0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0);
    }

    [Fact]
    public void WriteResponse_Usage_IsPromptEvalCountTwiceAndRecorded()
    {
        var native = OpenAiJson.Parse("""{"model":"m","embeddings":[[0.5]],"prompt_eval_count":13}""");
        var usage = new TokenUsage();

        var response = Response(native, base64: false, usage);

        response.GetProperty("usage").GetProperty("prompt_tokens").GetInt32().Should().Be(13);
        response.GetProperty("usage").GetProperty("total_tokens").GetInt32().Should().Be(13);
        usage.PromptTokens.Should().Be(13);
        usage.TotalTokens.Should().Be(13);
    }

    [Fact]
    public void WriteResponse_Model_IsTheRequestedModelNotTheBackends()
    {
        var native = OpenAiJson.Parse("""{"model":"all-minilm:latest","embeddings":[[0.5]],"prompt_eval_count":1}""");

        var response = OpenAiJson.Written(writer => EmbeddingTranslator.WriteResponse(writer, native, "gpu.all-minilm", false, new TokenUsage()));

        response.GetProperty("model").GetString().Should().Be("gpu.all-minilm");
    }
}
