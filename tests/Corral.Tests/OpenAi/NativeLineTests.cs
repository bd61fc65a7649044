using System.Text;
using System.Text.Json;
using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

public sealed class NativeLineTests
{
    [Fact]
    public void Parse_ChatLine_ReadsFieldsAndKeepsStringsEscaped()
    {
        var line = """{"model":"llama3.2","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"a\n\"b\"","thinking":"t\u00e9","images":null,"tool_calls":[{"function":{"name":"f","arguments":{"x":[1]}}}]},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":282,"logprobs":[{"token":"a"}]}"""u8;

        var parsed = NativeLine.Parse(line, decodeModel: true);

        parsed.ModelName.Should().Be("llama3.2");
        Encoding.UTF8.GetString(parsed.CreatedAt).Should().Be("2024-01-01T00:00:00Z");
        Encoding.UTF8.GetString(parsed.Content).Should().Be("a\\n\\\"b\\\"");
        Encoding.UTF8.GetString(parsed.Thinking).Should().Be("""t\u00e9""");
        Encoding.UTF8.GetString(parsed.ToolCalls).Should().Be("""[{"function":{"name":"f","arguments":{"x":[1]}}}]""");
        Encoding.UTF8.GetString(parsed.Logprobs).Should().Be("""[{"token":"a"}]""");
        Encoding.UTF8.GetString(parsed.DoneReason).Should().Be("stop");
        parsed.Done.Should().BeTrue();
        parsed.PromptEvalCount.Should().Be(26);
        parsed.EvalCount.Should().Be(282);
        parsed.HasError.Should().BeFalse();
    }

    [Fact]
    public void Parse_ModelNotAskedFor_IsNotDecoded()
    {
        NativeLine.Parse("""{"model":"llama3.2","response":"x","done":false}"""u8, decodeModel: false).ModelName.Should().BeNull();
    }

    [Fact]
    public void Parse_GenerateLine_ReadsResponse()
    {
        var parsed = NativeLine.Parse("""{"model":"m","response":" sky\t","done":false}"""u8, decodeModel: false);

        Encoding.UTF8.GetString(parsed.Response).Should().Be(""" sky\t""");
        parsed.Done.Should().BeFalse();
    }

    [Fact]
    public void Parse_ErrorLine_HasError()
    {
        var parsed = NativeLine.Parse("""{"error":"model \"x\" not found"}"""u8, decodeModel: true);

        parsed.HasError.Should().BeTrue();
        Encoding.UTF8.GetString(parsed.Error).Should().Be("""model \"x\" not found""");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"message\":{\"content\":\"cut")]
    public void Parse_NotAJsonObject_ThrowsJsonException(string line)
    {
        Action act = () => NativeLine.Parse(Encoding.UTF8.GetBytes(line), decodeModel: true);

        act.Should().Throw<JsonException>();
    }
}
