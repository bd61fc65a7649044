using System.IO.Pipelines;
using System.Text;
using Corral.Forwarding;

namespace Corral.Tests.Forwarding;

public sealed class JsonRequestBodyTests
{
    private const long Limit = 1024 * 1024;

    private static Task<(JsonRequestBody? Body, int Status, string? Error)> Read(string json, long maxBytes = Limit) =>
        Read(Encoding.UTF8.GetBytes(json), maxBytes);

    private static async Task<(JsonRequestBody? Body, int Status, string? Error)> Read(byte[] bytes, long maxBytes = Limit)
    {
        var (body, error) = await JsonRequestBody.ReadAsync(PipeReader.Create(new MemoryStream(bytes)), maxBytes, CancellationToken.None);
        return (body, error?.Status ?? 200, error?.Message);
    }

    private static async Task<JsonRequestBody> ReadOk(string json)
    {
        var (body, status, error) = await Read(json);
        error.Should().BeNull();
        status.Should().Be(200);
        return body!;
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \r\n\t ")]
    public async Task ReadAsync_EmptyBody_Is400MissingRequestBody(string json)
    {
        var (body, status, error) = await Read(json);

        body.Should().BeNull();
        status.Should().Be(400);
        error.Should().Be("missing request body");
    }

    [Theory]
    [InlineData("{\"model\":")]
    [InlineData("{\"model\":\"x\"")]
    [InlineData("{model:\"x\"}")]
    [InlineData("{\"model\":\"x\"} trailing")]
    [InlineData("{\"model\":\"x\",}")]
    public async Task ReadAsync_MalformedJson_Is400InvalidJson(string json)
    {
        var (body, status, error) = await Read(json);

        body.Should().BeNull();
        status.Should().Be(400);
        error.Should().StartWith("invalid JSON in request body");
    }

    [Theory]
    [InlineData("[1,2]", "an array")]
    [InlineData("\"llama3.2\"", "a string")]
    [InlineData("42", "a number")]
    [InlineData("null", "null")]
    public async Task ReadAsync_NotAnObject_Is400SayingWhatItGot(string json, string got)
    {
        var (body, status, error) = await Read(json);

        body.Should().BeNull();
        status.Should().Be(400);
        error.Should().Contain("expected a JSON object").And.Contain(got);
    }

    [Fact]
    public async Task ReadAsync_BodyOverLimit_Is413NamingTheLimit()
    {
        var json = "{\"model\":\"m\",\"prompt\":\"" + new string('x', 2000) + "\"}";

        var (body, status, error) = await Read(json, maxBytes: 1000);

        body.Should().BeNull();
        status.Should().Be(413);
        error.Should().Contain("1000");
    }

    [Fact]
    public async Task ReadAsync_BodyExactlyAtLimit_IsAccepted()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"model\":\"m\"}");

        var (body, status, _) = await Read(bytes, maxBytes: bytes.Length);

        status.Should().Be(200);
        using (body)
        {
            body!.Get("model").Should().Be("m");
        }
    }

    [Fact]
    public async Task ReadAsync_LargeBodyUnderLimit_IsReadWhole()
    {
        var prompt = new string('p', 200_000);
        var json = "{\"prompt\":\"" + prompt + "\",\"model\":\"llama3.2\"}";

        using var body = await ReadOk(json);

        body.Length.Should().Be(Encoding.UTF8.GetByteCount(json));
        body.Memory.ToArray().Should().Equal(Encoding.UTF8.GetBytes(json));
        body.Get("model").Should().Be("llama3.2");
    }

    [Theory]
    [InlineData("{\"model\":42}", "model", "a number")]
    [InlineData("{\"model\":{\"name\":\"x\"}}", "model", "an object")]
    [InlineData("{\"model\":[\"x\"]}", "model", "an array")]
    [InlineData("{\"model\":true}", "model", "a boolean")]
    [InlineData("{\"name\":1}", "name", "a number")]
    public async Task ReadAsync_RoutingFieldNotString_Is400NamingField(string json, string field, string got)
    {
        var (body, status, error) = await Read(json);

        body.Should().BeNull();
        status.Should().Be(400);
        error.Should().Contain($"\"{field}\" must be a string").And.Contain(got);
    }

    [Fact]
    public async Task ReadAsync_StreamNotBoolean_Is400()
    {
        var (body, status, error) = await Read("{\"model\":\"m\",\"stream\":\"yes\"}");

        body.Should().BeNull();
        status.Should().Be(400);
        error.Should().Contain("\"stream\" must be true or false");
    }

    [Fact]
    public async Task Get_TopLevelFields_AreDecoded()
    {
        using var body = await ReadOk("{\"model\":\"llama3.2\",\"source\":\"a\",\"destination\":\"b\",\"from\":\"c\",\"name\":\"d\"}");

        body.Get("model").Should().Be("llama3.2");
        body.Get("source").Should().Be("a");
        body.Get("destination").Should().Be("b");
        body.Get("from").Should().Be("c");
        body.Get("name").Should().Be("d");
    }

    [Fact]
    public async Task Get_EscapedString_IsUnescaped()
    {
        using var body = await ReadOk("{\"model\":\"caf\\u00e9\\/x\"}");

        body.Get("model").Should().Be("café/x");
    }

    [Fact]
    public async Task Get_ModelOnlyInNestedObject_IsNull()
    {
        using var body = await ReadOk("{\"options\":{\"model\":\"inner\"},\"messages\":[{\"model\":\"x\"}]}");

        body.Get("model").Should().BeNull();
        body.Has("model").Should().BeFalse();
    }

    [Fact]
    public async Task Has_NullModel_IsTrueButGetIsNull()
    {
        using var body = await ReadOk("{\"model\":null}");

        body.Has("model").Should().BeTrue();
        body.Get("model").Should().BeNull();
        body.Has("name").Should().BeFalse();
    }

    [Theory]
    [InlineData("{\"model\":\"m\",\"stream\":true}", true)]
    [InlineData("{\"model\":\"m\",\"stream\":false}", false)]
    [InlineData("{\"model\":\"m\",\"stream\":null}", null)]
    [InlineData("{\"model\":\"m\"}", null)]
    [InlineData("{\"options\":{\"stream\":false},\"model\":\"m\"}", null)]
    public async Task Stream_Field_IsReadFromTopLevelOnly(string json, bool? expected)
    {
        using var body = await ReadOk(json);

        body.Stream.Should().Be(expected);
    }

    [Fact]
    public async Task ToContent_ModelFirst_ChangesOnlyThatValue()
    {
        const string before = "{\"model\":\"gpu1.llama3.2\",\"prompt\":\"hi\",\"stream\":false}";
        const string after = "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"stream\":false}";
        using var body = await ReadOk(before);

        using var content = body.ToContent([("model", "llama3.2")]);

        (await content.ReadAsByteArrayAsync()).Should().Equal(Encoding.UTF8.GetBytes(after));
        body.Stream.Should().BeFalse();
    }

    [Fact]
    public async Task ToContent_ModelAfterNestedObjectsAndUnicode_KeepsEveryOtherByte()
    {
        const string before =
            "{\n  \"messages\": [{\"role\":\"user\",\"content\":\"héllo 👋 \\u00e9 \\\"quoted\\\"\",\"model\":\"not-this\"}],\n" +
            "  \"options\" : { \"temperature\": 0.70, \"nested\": {\"model\": \"nor-this\"} },\n" +
            "  \"format\":{\"type\":\"object\"},   \"model\"  :  \"gpu1.qwen2.5:7b\" ,\n  \"keep_alive\": \"5m\"\n}\n";
        const string after =
            "{\n  \"messages\": [{\"role\":\"user\",\"content\":\"héllo 👋 \\u00e9 \\\"quoted\\\"\",\"model\":\"not-this\"}],\n" +
            "  \"options\" : { \"temperature\": 0.70, \"nested\": {\"model\": \"nor-this\"} },\n" +
            "  \"format\":{\"type\":\"object\"},   \"model\"  :  \"qwen2.5:7b\" ,\n  \"keep_alive\": \"5m\"\n}\n";
        using var body = await ReadOk(before);

        using var content = body.ToContent([("model", "qwen2.5:7b")]);

        (await content.ReadAsByteArrayAsync()).Should().Equal(Encoding.UTF8.GetBytes(after));
    }

    [Fact]
    public async Task ToContent_ValueNeedingEscapes_ProducesValidJsonWithThatValue()
    {
        using var body = await ReadOk("{\"model\":\"a\",\"prompt\":\"p\"}");

        using var content = body.ToContent([("model", "we\"ird\\name")]);

        using var parsed = System.Text.Json.JsonDocument.Parse(await content.ReadAsByteArrayAsync());
        parsed.RootElement.GetProperty("model").GetString().Should().Be("we\"ird\\name");
        parsed.RootElement.GetProperty("prompt").GetString().Should().Be("p");
    }

    [Fact]
    public async Task ToContent_ReplacingAnAbsentField_SendsTheBodyUnchanged()
    {
        const string json = "{\"prompt\":\"hi\"}";
        using var body = await ReadOk(json);

        using var content = body.ToContent([("model", "x")]);

        (await content.ReadAsByteArrayAsync()).Should().Equal(Encoding.UTF8.GetBytes(json));
        body.Has("model").Should().BeFalse();
    }

    [Fact]
    public async Task ToContent_WithReplacements_SendsReplacedCopyAndLeavesOriginal()
    {
        const string original = "{\"source\":\"gpu1.llama3.2\",\"destination\":\"gpu1.mine\",\"extra\":{\"a\":[1,2]}}";
        using var body = await ReadOk(original);

        using var content = body.ToContent([("source", "llama3.2"), ("destination", "mine")]);
        var sent = await content.ReadAsByteArrayAsync();

        sent.Should().Equal(Encoding.UTF8.GetBytes("{\"source\":\"llama3.2\",\"destination\":\"mine\",\"extra\":{\"a\":[1,2]}}"));
        content.Headers.ContentType!.MediaType.Should().Be("application/json");
        body.Memory.ToArray().Should().Equal(Encoding.UTF8.GetBytes(original));
        body.Get("source").Should().Be("gpu1.llama3.2");
    }

    [Fact]
    public async Task ToContent_ReplacementsGivenOutOfOrder_SpliceEachField()
    {
        const string original = "{\"source\":\"p.a\",\"x\":1,\"destination\":\"p.b\"}";
        using var body = await ReadOk(original);

        using var content = body.ToContent([("destination", "b"), ("source", "a")]);

        (await content.ReadAsStringAsync()).Should().Be("{\"source\":\"a\",\"x\":1,\"destination\":\"b\"}");
    }

    [Fact]
    public async Task ToContent_NoReplacements_SendsOriginalBytes()
    {
        const string original = "{ \"model\" : \"m\" , \"prompt\":\"ü\" }";
        using var body = await ReadOk(original);

        using var content = body.ToContent([]);

        (await content.ReadAsByteArrayAsync()).Should().Equal(Encoding.UTF8.GetBytes(original));
    }
}
