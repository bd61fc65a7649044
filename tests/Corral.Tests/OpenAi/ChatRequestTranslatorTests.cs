using System.Text.Json;
using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

public sealed class ChatRequestTranslatorTests
{
    private const string Hello = """[{"role":"user","content":"Hello"}]""";

    private static Translation Run(string request, string model = "llama3.2") =>
        ChatRequestTranslator.Translate(OpenAiJson.Parse(request), model);

    private static JsonElement Native(string request) => OpenAiJson.Body(Run(request));

    /// <summary>A request with <paramref name="fields"/> added to a single user message.</summary>
    private static JsonElement NativeWith(string fields) => Native($$"""{"model":"llama3.2","messages":{{Hello}},{{fields}}}""");

    private static JsonElement Options(string fields) => NativeWith(fields).GetProperty("options");

    private static string? Error(string request) => Run(request).Error;

    private static string? MessagesError(string messages) => Error($$"""{"model":"llama3.2","messages":{{messages}}}""");

    private static JsonElement Messages(string messages) => Native($$"""{"model":"llama3.2","messages":{{messages}}}""").GetProperty("messages");

    [Theory]
    [InlineData("o01")]
    [InlineData("o02")]
    [InlineData("o04")]
    [InlineData("o06")]
    [InlineData("o08")]
    [InlineData("o09")]
    [InlineData("o11")]
    public void Translate_FixtureRequest_IsTheFixtureUpstreamRequest(string fixture)
    {
        var root = OpenAiJson.Fixture(fixture);
        var request = root.GetProperty("request").GetProperty("body");
        var expected = root.GetProperty("upstream_request").GetProperty("body");

        var translation = ChatRequestTranslator.Translate(request, request.GetProperty("model").GetString()!);

        OpenAiJson.ShouldMatch(OpenAiJson.Body(translation), expected);
    }

    [Fact]
    public void Translate_Model_IsTheGivenUpstreamName()
    {
        var native = OpenAiJson.Body(Run($$"""{"model":"gpu.llama3.2","messages":{{Hello}}}""", "llama3.2:latest"));

        native.GetProperty("model").GetString().Should().Be("llama3.2:latest");
    }

    [Fact]
    public void Translate_NoSamplingFields_SendsTemperatureAndTopPOfOneOnly()
    {
        var options = Native($$"""{"model":"llama3.2","messages":{{Hello}}}""").GetProperty("options");

        options.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("temperature", "top_p");
        options.GetProperty("temperature").GetDouble().Should().Be(1.0);
        options.GetProperty("top_p").GetDouble().Should().Be(1.0);
    }

    [Fact]
    public void Translate_ExplicitTemperatureAndTopP_AreKept()
    {
        var options = Options("\"temperature\":0.2,\"top_p\":0.9");

        options.GetProperty("temperature").GetDouble().Should().Be(0.2);
        options.GetProperty("top_p").GetDouble().Should().Be(0.9);
    }

    [Fact]
    public void Translate_TemperatureZero_StaysZero()
    {
        Options("\"temperature\":0").GetProperty("temperature").GetDouble().Should().Be(0);
    }

    [Fact]
    public void Translate_StopString_BecomesOneItemList()
    {
        var stop = Options("\"stop\":\"END\"").GetProperty("stop");

        stop.EnumerateArray().Select(s => s.GetString()).Should().Equal("END");
    }

    [Fact]
    public void Translate_StopArrayWithNonStrings_KeepsOnlyTheStrings()
    {
        var stop = Options("\"stop\":[\"a\",1,true,{\"x\":1},\"b\"]").GetProperty("stop");

        stop.EnumerateArray().Select(s => s.GetString()).Should().Equal("a", "b");
    }

    [Fact]
    public void Translate_NoStop_SendsNoStop()
    {
        Options("\"seed\":1").TryGetProperty("stop", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("max_tokens")]
    [InlineData("max_completion_tokens")]
    public void Translate_TokenLimit_BecomesNumPredict(string field)
    {
        Options($"\"{field}\":42").GetProperty("num_predict").GetInt32().Should().Be(42);
    }

    [Fact]
    public void Translate_NoTokenLimit_SendsNoNumPredict()
    {
        Options("\"seed\":1").TryGetProperty("num_predict", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_Seed_IsCopied()
    {
        Options("\"seed\":123").GetProperty("seed").GetInt32().Should().Be(123);
    }

    [Fact]
    public void Translate_NoPenalties_SendsNoPenalties()
    {
        var options = Options("\"seed\":1");

        options.TryGetProperty("frequency_penalty", out _).Should().BeFalse();
        options.TryGetProperty("presence_penalty", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_Penalties_AreCopied()
    {
        var options = Options("\"frequency_penalty\":0.5,\"presence_penalty\":-1.5");

        options.GetProperty("frequency_penalty").GetDouble().Should().Be(0.5);
        options.GetProperty("presence_penalty").GetDouble().Should().Be(-1.5);
    }

    [Fact]
    public void Translate_OnlyPresencePenalty_SendsOnlyPresencePenalty()
    {
        var options = Options("\"presence_penalty\":0");

        options.GetProperty("presence_penalty").GetDouble().Should().Be(0);
        options.TryGetProperty("frequency_penalty", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_ResponseFormatJsonObject_SetsFormatJson()
    {
        NativeWith("\"response_format\":{\"type\":\"json_object\"}").GetProperty("format").GetString().Should().Be("json");
    }

    [Fact]
    public void Translate_ResponseFormatJsonSchema_SetsFormatToTheSchema()
    {
        const string schema = """{"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]}""";

        var format = NativeWith($$$"""
            "response_format":{"type":"json_schema","json_schema":{"name":"person","strict":true,"schema":{{{schema}}}}}
            """).GetProperty("format");

        JsonElement.DeepEquals(format, OpenAiJson.Parse(schema)).Should().BeTrue(format.GetRawText());
    }

    [Theory]
    [InlineData("text")]
    [InlineData("xml")]
    public void Translate_ResponseFormatOtherType_SendsNoFormat(string type)
    {
        NativeWith($$"""
            "response_format":{"type":"{{type}}"}
            """).TryGetProperty("format", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("none", "false")]
    [InlineData("minimal", "\"low\"")]
    [InlineData("low", "\"low\"")]
    [InlineData("medium", "\"medium\"")]
    [InlineData("high", "\"high\"")]
    [InlineData("max", "\"max\"")]
    [InlineData("xhigh", "\"max\"")]
    [InlineData("ultra", "\"max\"")]
    public void Translate_ReasoningEffort_SetsThink(string effort, string think)
    {
        var native = NativeWith($"\"reasoning_effort\":\"{effort}\"");

        JsonElement.DeepEquals(native.GetProperty("think"), OpenAiJson.Parse(think)).Should().BeTrue(native.GetProperty("think").GetRawText());
    }

    [Fact]
    public void Translate_ReasoningObjectEffort_SetsThink()
    {
        NativeWith("\"reasoning\":{\"effort\":\"minimal\"}").GetProperty("think").GetString().Should().Be("low");
    }

    [Fact]
    public void Translate_ReasoningEffortNone_SetsThinkFalse()
    {
        NativeWith("\"reasoning\":{\"effort\":\"none\"}").GetProperty("think").ValueKind.Should().Be(JsonValueKind.False);
    }

    [Fact]
    public void Translate_NoReasoningEffort_SendsNoThink()
    {
        NativeWith("\"seed\":1").TryGetProperty("think", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("\"reasoning_effort\":\"bogus\"")]
    [InlineData("\"reasoning\":{\"effort\":\"extreme\"}")]
    public void Translate_UnknownReasoningEffort_IsAnError(string fields)
    {
        var translation = Run($$"""{"model":"llama3.2","messages":{{Hello}},{{fields}}}""");

        translation.Error.Should().NotBeNullOrEmpty();
        translation.Body.Should().BeNull();
    }

    [Fact]
    public void Translate_Tools_AreCopiedVerbatim()
    {
        const string tools = """
            [{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string","enum":["a","b"]}},"required":["city"]},"strict":true}},{"type":"function","function":{"name":"noop"}}]
            """;

        var native = NativeWith($"\"tools\":{tools}");

        JsonElement.DeepEquals(native.GetProperty("tools"), OpenAiJson.Parse(tools)).Should().BeTrue(native.GetProperty("tools").GetRawText());
    }

    [Fact]
    public void Translate_NoStream_SendsStreamFalse()
    {
        var translation = Run($$"""{"model":"llama3.2","messages":{{Hello}}}""");

        translation.Stream.Should().BeFalse();
        OpenAiJson.Body(translation).GetProperty("stream").ValueKind.Should().Be(JsonValueKind.False);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Translate_ExplicitStream_IsSentAndReported(bool stream)
    {
        var translation = Run($$"""{"model":"llama3.2","messages":{{Hello}},"stream":{{(stream ? "true" : "false")}}}""");

        translation.Stream.Should().Be(stream);
        OpenAiJson.Body(translation).GetProperty("stream").GetBoolean().Should().Be(stream);
    }

    [Fact]
    public void Translate_StreamOptionsIncludeUsage_IsReportedAndNotForwarded()
    {
        var translation = Run($$$"""{"model":"llama3.2","messages":{{{Hello}}},"stream":true,"stream_options":{"include_usage":true}}""");

        translation.IncludeUsage.Should().BeTrue();
        OpenAiJson.Body(translation).TryGetProperty("stream_options", out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData(",\"stream_options\":{}")]
    [InlineData(",\"stream_options\":{\"include_usage\":false}")]
    public void Translate_NoIncludeUsage_IsNotReported(string fields)
    {
        Run($$"""{"model":"llama3.2","messages":{{Hello}},"stream":true{{fields}}}""").IncludeUsage.Should().BeFalse();
    }

    [Fact]
    public void Translate_LogprobsAndTopLogprobs_ArePassedThrough()
    {
        var native = NativeWith("\"logprobs\":true,\"top_logprobs\":3");

        native.GetProperty("logprobs").GetBoolean().Should().BeTrue();
        native.GetProperty("top_logprobs").GetInt32().Should().Be(3);
    }

    [Fact]
    public void Translate_AssistantToolCalls_ArgumentsBecomeObjectsAndIdsAreKept()
    {
        var messages = Messages("""
            [{"role":"user","content":"weather?"},
             {"role":"assistant","content":"","tool_calls":[
               {"id":"call_a1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Tokyo\",\"days\":[1,2]}"}},
               {"id":"call_b2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}]
            """);

        var calls = messages[1].GetProperty("tool_calls");
        calls.GetArrayLength().Should().Be(2);
        calls[0].GetProperty("id").GetString().Should().Be("call_a1");
        calls[0].GetProperty("function").GetProperty("name").GetString().Should().Be("get_weather");
        var arguments = calls[0].GetProperty("function").GetProperty("arguments");
        JsonElement.DeepEquals(arguments, OpenAiJson.Parse("""{"city":"Tokyo","days":[1,2]}""")).Should().BeTrue(arguments.GetRawText());
        calls[1].GetProperty("id").GetString().Should().Be("call_b2");
        calls[1].GetProperty("function").GetProperty("arguments").ValueKind.Should().Be(JsonValueKind.Object);
    }

    [Fact]
    public void Translate_AssistantNullContentWithToolCalls_IsAcceptedWithEmptyContent()
    {
        var messages = Messages("""
            [{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]}]
            """);

        messages[0].GetProperty("content").GetString().Should().BeEmpty();
        messages[0].GetProperty("tool_calls")[0].GetProperty("id").GetString().Should().Be("call_1");
        messages[0].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetProperty("x").GetInt32().Should().Be(1);
    }

    [Theory]
    [InlineData("\"content\":\"\"")]
    [InlineData("\"content\":null")]
    public void Translate_ToolCallArgumentsNotJson_IsInvalidToolCallArguments(string content)
    {
        MessagesError($$$"""
            [{"role":"assistant",{{{content}}},"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{city: Tokyo"}}]}]
            """).Should().Be("invalid tool call arguments");
    }

    [Theory]
    [InlineData("\"content\":null", "<nil>")]
    [InlineData("\"role2\":1", "<nil>")]
    [InlineData("\"content\":42", "float64")]
    [InlineData("\"content\":true", "bool")]
    public void Translate_ContentNeitherStringNorPartsWithoutToolCalls_IsInvalidContentType(string content, string goType)
    {
        MessagesError($$"""[{"role":"user",{{content}}}]""").Should().Be($"invalid message content type: {goType}");
    }

    [Fact]
    public void Translate_ToolMessageWithName_SetsToolNameAndKeepsToolCallId()
    {
        var messages = Messages("""
            [{"role":"tool","name":"get_weather","tool_call_id":"call_1","content":"sunny"}]
            """);

        messages[0].GetProperty("role").GetString().Should().Be("tool");
        messages[0].GetProperty("content").GetString().Should().Be("sunny");
        messages[0].GetProperty("tool_name").GetString().Should().Be("get_weather");
        messages[0].GetProperty("tool_call_id").GetString().Should().Be("call_1");
    }

    [Fact]
    public void Translate_ToolMessageWithoutName_TakesToolNameFromTheMatchingEarlierCall()
    {
        var messages = Messages("""
            [{"role":"user","content":"weather and time?"},
             {"role":"assistant","content":"","tool_calls":[
               {"id":"call_w","type":"function","function":{"name":"get_weather","arguments":"{}"}},
               {"id":"call_t","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"call_t","content":"noon"},
             {"role":"tool","tool_call_id":"call_w","content":"sunny"}]
            """);

        messages[2].GetProperty("tool_name").GetString().Should().Be("get_time");
        messages[2].GetProperty("tool_call_id").GetString().Should().Be("call_t");
        messages[3].GetProperty("tool_name").GetString().Should().Be("get_weather");
    }

    [Fact]
    public void Translate_ToolMessageWithUnknownCallId_HasNoToolName()
    {
        var messages = Messages("""
            [{"role":"assistant","content":"","tool_calls":[{"id":"call_w","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"call_other","content":"?"}]
            """);

        messages[1].TryGetProperty("tool_name", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_ArrayContent_IsSplitIntoSeparateMessagesWithTheSameRole()
    {
        var messages = Messages("""
            [{"role":"user","content":[
               {"type":"text","text":"What is this?"},
               {"type":"image_url","image_url":{"url":"data:image/png;base64,aGVsbG8="}},
               {"type":"image_url","image_url":"data:;base64,d29ybGQ="},
               {"type":"text","text":"Be brief."}]}]
            """);

        messages.GetArrayLength().Should().Be(4);
        messages.EnumerateArray().Select(m => m.GetProperty("role").GetString()).Should().AllBe("user");
        messages[0].GetProperty("content").GetString().Should().Be("What is this?");
        messages[0].TryGetProperty("images", out _).Should().BeFalse();
        messages[1].GetProperty("images").EnumerateArray().Select(i => i.GetString()).Should().Equal("aGVsbG8=");
        messages[1].GetProperty("content").GetString().Should().BeEmpty();
        messages[2].GetProperty("images").EnumerateArray().Select(i => i.GetString()).Should().Equal("d29ybGQ=");
        messages[3].GetProperty("content").GetString().Should().Be("Be brief.");
    }

    [Theory]
    [InlineData("data:image/jpeg;base64,")]
    [InlineData("data:image/jpg;base64,")]
    [InlineData("data:image/webp;base64,")]
    public void Translate_ImageDataUrl_SendsTheBase64Data(string prefix)
    {
        var messages = Messages($$$"""
            [{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{prefix}}}AQID"}}]}]
            """);

        Convert.FromBase64String(messages[0].GetProperty("images")[0].GetString()!).Should().Equal(1, 2, 3);
    }

    [Fact]
    public void Translate_ImageDataUrlWithBadBase64_IsInvalidMessageFormat()
    {
        MessagesError("""
            [{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,not*base64"}}]}]
            """).Should().Be("invalid message format");
    }

    [Theory]
    [InlineData("http://example.com/cat.png")]
    [InlineData("https://example.com/cat.png")]
    public void Translate_ImageHttpUrl_IsRejectedWithOllamasMessage(string url)
    {
        MessagesError($$$"""
            [{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{url}}}"}}]}]
            """).Should().Be("image URLs are not currently supported, please use base64 encoded data instead");
    }

    [Theory]
    [InlineData("data:image/gif;base64,R0lGOD")]
    [InlineData("ftp://example.com/cat.png")]
    [InlineData("aGVsbG8=")]
    public void Translate_ImageUnknownPrefix_IsInvalidImageInput(string url)
    {
        MessagesError($$$"""
            [{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{url}}}"}}]}]
            """).Should().Be("invalid image input");
    }

    [Theory]
    [InlineData("""{"type":"video_url","video_url":{"url":"x"}}""")]
    [InlineData("""{"text":"no type"}""")]
    [InlineData("""{"type":"text","text":5}""")]
    [InlineData("\"plain string part\"")]
    public void Translate_UnknownOrMalformedPart_IsInvalidMessageFormat(string part)
    {
        MessagesError($$"""[{"role":"user","content":[{{part}}]}]""").Should().Be("invalid message format");
    }

    [Fact]
    public void Translate_EmptyMessages_IsTooShort()
    {
        Error("""{"model":"llama3.2","messages":[]}""").Should().Be("[] is too short - 'messages'");
    }

    [Fact]
    public void Translate_EmptyMessagesFixture_IsTheFixtureError()
    {
        var root = OpenAiJson.Fixture("o20");
        var request = root.GetProperty("request").GetProperty("body");

        var translation = ChatRequestTranslator.Translate(request, "llama3.2");

        translation.Error.Should().Be(root.GetProperty("expected").GetProperty("body").GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public void Translate_AssistantReasoning_BecomesThinking()
    {
        var messages = Messages("""
            [{"role":"user","content":"hi"},{"role":"assistant","content":"hello","reasoning":"greet back"},{"role":"user","content":"again"}]
            """);

        messages[1].GetProperty("thinking").GetString().Should().Be("greet back");
        messages[1].GetProperty("content").GetString().Should().Be("hello");
        messages[1].TryGetProperty("reasoning", out _).Should().BeFalse();
        messages[0].TryGetProperty("thinking", out _).Should().BeFalse();
    }

    [Fact]
    public void Translate_StringContent_IsCopiedExactly()
    {
        var messages = Messages("""[{"role":"system","content":"Line 1\nLine \"2\" caf\u00e9 😀"}]""");

        messages[0].GetProperty("role").GetString().Should().Be("system");
        messages[0].GetProperty("content").GetString().Should().Be("Line 1\nLine \"2\" café 😀");
    }
}
