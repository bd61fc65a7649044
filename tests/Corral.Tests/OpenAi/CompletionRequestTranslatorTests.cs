using System.Text.Json;
using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

public sealed class CompletionRequestTranslatorTests
{
    private static Translation Run(string fields) =>
        CompletionRequestTranslator.Translate(OpenAiJson.Parse($$"""{"model":"llama3.2",{{fields}}}"""), "llama3.2");

    private static JsonElement Native(string fields) => OpenAiJson.Body(Run(fields));

    private static JsonElement Options(string fields) => Native(fields).GetProperty("options");

    [Fact]
    public void Translate_FixtureRequest_IsTheFixtureUpstreamRequest()
    {
        var root = OpenAiJson.Fixture("o12");
        var request = root.GetProperty("request").GetProperty("body");

        var translation = CompletionRequestTranslator.Translate(request, "llama3.2");

        OpenAiJson.ShouldMatch(OpenAiJson.Body(translation), root.GetProperty("upstream_request").GetProperty("body"));
    }

    [Fact]
    public void Translate_Prompt_IsCopiedWithModelAndStream()
    {
        var translation = Run("\"prompt\":\"Say \\\"hi\\\"\\n\",\"stream\":true");
        var native = OpenAiJson.Body(translation);

        native.GetProperty("model").GetString().Should().Be("llama3.2");
        native.GetProperty("prompt").GetString().Should().Be("Say \"hi\"\n");
        native.GetProperty("stream").GetBoolean().Should().BeTrue();
        translation.Stream.Should().BeTrue();
    }

    [Theory]
    [InlineData("42")]
    [InlineData("[\"a\",\"b\"]")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"text\":\"a\"}")]
    public void Translate_PromptNotAString_IsAnError(string prompt)
    {
        var translation = Run($"\"prompt\":{prompt}");

        translation.Error.Should().NotBeNullOrEmpty();
        translation.Body.Should().BeNull();
    }

    [Fact]
    public void Translate_NoOptions_SendsZeroPenaltiesAndDefaultSampling()
    {
        var options = Options("\"prompt\":\"p\"");

        options.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("frequency_penalty", "presence_penalty", "temperature", "top_p");
        options.GetProperty("frequency_penalty").GetDouble().Should().Be(0);
        options.GetProperty("presence_penalty").GetDouble().Should().Be(0);
        options.GetProperty("temperature").GetDouble().Should().Be(1.0);
        options.GetProperty("top_p").GetDouble().Should().Be(1.0);
    }

    [Fact]
    public void Translate_Penalties_AreCopied()
    {
        var options = Options("\"prompt\":\"p\",\"frequency_penalty\":1.5,\"presence_penalty\":-0.5");

        options.GetProperty("frequency_penalty").GetDouble().Should().Be(1.5);
        options.GetProperty("presence_penalty").GetDouble().Should().Be(-0.5);
    }

    [Theory]
    [InlineData("0", 1.0)]
    [InlineData("0.0", 1.0)]
    [InlineData("0.25", 0.25)]
    public void Translate_TopP_ZeroMeansOne(string topP, double expected)
    {
        Options($"\"prompt\":\"p\",\"top_p\":{topP}").GetProperty("top_p").GetDouble().Should().Be(expected);
    }

    [Fact]
    public void Translate_TemperatureZero_StaysZero()
    {
        Options("\"prompt\":\"p\",\"temperature\":0").GetProperty("temperature").GetDouble().Should().Be(0);
    }

    [Theory]
    [InlineData("max_tokens")]
    [InlineData("max_completion_tokens")]
    public void Translate_TokenLimit_BecomesNumPredict(string field)
    {
        Options($"\"prompt\":\"p\",\"{field}\":7").GetProperty("num_predict").GetInt32().Should().Be(7);
    }

    [Fact]
    public void Translate_Seed_IsCopied()
    {
        Options("\"prompt\":\"p\",\"seed\":99").GetProperty("seed").GetInt32().Should().Be(99);
    }

    [Fact]
    public void Translate_StopString_BecomesOneItemList()
    {
        Options("\"prompt\":\"p\",\"stop\":\"\\n\"").GetProperty("stop").EnumerateArray().Select(s => s.GetString()).Should().Equal("\n");
    }

    [Theory]
    [InlineData("[\"a\",1]", "float64")]
    [InlineData("[true]", "bool")]
    [InlineData("[\"a\",{\"x\":1}]", "map[string]interface {}")]
    public void Translate_StopArrayWithNonString_IsInvalidStopType(string stop, string goType)
    {
        Run($"\"prompt\":\"p\",\"stop\":{stop}").Error.Should().Be($"invalid type for 'stop' field: {goType}");
    }

    [Fact]
    public void Translate_LogprobsCount_AsksForThatManyTopLogprobs()
    {
        var native = Native("\"prompt\":\"p\",\"logprobs\":3");

        native.GetProperty("logprobs").GetBoolean().Should().BeTrue();
        native.GetProperty("top_logprobs").GetInt32().Should().Be(3);
    }

    [Fact]
    public void Translate_LogprobsZero_AsksForNoLogprobs()
    {
        var native = Native("\"prompt\":\"p\",\"logprobs\":0");

        native.TryGetProperty("logprobs", out _).Should().BeFalse();
        native.TryGetProperty("top_logprobs", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_Suffix_IsCopied()
    {
        Native("\"prompt\":\"def f(\",\"suffix\":\"    return x\"").GetProperty("suffix").GetString().Should().Be("    return x");
    }

    [Theory]
    [InlineData("")]
    [InlineData(",\"suffix\":\"\"")]
    public void Translate_NoOrEmptySuffix_SendsNoSuffix(string fields)
    {
        Native($"\"prompt\":\"p\"{fields}").TryGetProperty("suffix", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_StreamOptionsIncludeUsage_IsReportedAndNotForwarded()
    {
        var translation = Run("\"prompt\":\"p\",\"stream\":true,\"stream_options\":{\"include_usage\":true}");

        translation.IncludeUsage.Should().BeTrue();
        OpenAiJson.Body(translation).TryGetProperty("stream_options", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_NoStream_SendsStreamFalse()
    {
        var translation = Run("\"prompt\":\"p\"");

        translation.Stream.Should().BeFalse();
        OpenAiJson.Body(translation).GetProperty("stream").ValueKind.Should().Be(JsonValueKind.False);
    }
}
