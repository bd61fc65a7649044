using System.Text.Json;
using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

public sealed class ToolCallsTests
{
    private static JsonElement OpenAi(string nativeArray) =>
        OpenAiJson.Written(writer => ToolCalls.WriteOpenAi(writer, OpenAiJson.Parse(nativeArray)));

    [Fact]
    public void WriteOpenAi_NativeCall_IsTheOpenAiShapeWithArgumentsAsCompactString()
    {
        var calls = OpenAi("""[{"id":"call_1","function":{"index":2,"name":"get_weather","arguments":{ "city" : "Tokyo", "when": { "day": 1 } }}}]""");

        var call = calls.EnumerateArray().Should().ContainSingle().Subject;
        call.EnumerateObject().Select(p => p.Name).Should().Equal("id", "index", "type", "function");
        call.GetProperty("id").GetString().Should().Be("call_1");
        call.GetProperty("index").GetInt32().Should().Be(2);
        call.GetProperty("type").GetString().Should().Be("function");
        call.GetProperty("function").GetProperty("name").GetString().Should().Be("get_weather");
        call.GetProperty("function").GetProperty("arguments").GetString().Should().Be("{\"city\":\"Tokyo\",\"when\":{\"day\":1}}");
    }

    [Fact]
    public void WriteOpenAi_CallWithoutId_GetsAnOllamaStyleId()
    {
        var calls = OpenAi("""[{"function":{"name":"f","arguments":{}}},{"function":{"name":"g","arguments":{}}}]""");

        var ids = calls.EnumerateArray().Select(c => c.GetProperty("id").GetString()).ToArray();
        ids.Should().AllSatisfy(id => id.Should().MatchRegex("^call_[a-z0-9]{8}$"));
        ids[0].Should().NotBe(ids[1]);
    }

    [Fact]
    public void Compact_Value_KeepsKeyOrderAndNonAsciiText()
    {
        var value = OpenAiJson.Parse("""{ "z" : [ 1 , 2.50 ], "a" : "caf\u00e9 \"x\"", "m": null }""");

        ToolCalls.Compact(value).Should().Be("{\"z\":[1,2.50],\"a\":\"café \\\"x\\\"\",\"m\":null}");
    }

    [Theory]
    [InlineData("[]", false)]
    [InlineData("", false)]
    [InlineData("[{\"function\":{\"name\":\"f\"}}]", true)]
    public void Any_RawArray_IsTrueOnlyWithACall(string raw, bool expected)
    {
        ToolCalls.Any(System.Text.Encoding.UTF8.GetBytes(raw)).Should().Be(expected);
    }
}
