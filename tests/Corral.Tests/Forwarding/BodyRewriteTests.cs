using System.Text;
using System.Text.Json;
using Corral.Forwarding;

namespace Corral.Tests.Forwarding;

public sealed class BodyRewriteTests
{
    private static JsonElement Value(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    [Fact]
    public void Apply_NamedFieldsWrittenInPlaceOrAppended_OthersUntouched()
    {
        var body = Encoding.UTF8.GetBytes("""{"model":"support-bot","temperature":0.9,"messages":[{"role":"user","content":"hi"}],"top_p":0.5}""");

        var rewritten = BodyRewrite.Apply(body, [
            ("model", (writer, _) => writer.WriteString("model", "llama3.2")),
            BodyRewrite.Prefer("temperature", Value("0.2")),
            BodyRewrite.Prefer("top_p", null),
            BodyRewrite.Prefer("top_k", Value("20")),
            BodyRewrite.Prefer("stop", null),
        ]);

        Encoding.UTF8.GetString(rewritten).Should().Be("""{"model":"llama3.2","temperature":0.2,"messages":[{"role":"user","content":"hi"}],"top_p":0.5,"top_k":20}""");
    }

    [Fact]
    public void Apply_WriterThatWritesNothing_DropsTheField()
    {
        var rewritten = BodyRewrite.Apply(Encoding.UTF8.GetBytes("""{"thinking":{"type":"enabled"},"x":1}"""), [("thinking", (_, _) => { })]);

        Encoding.UTF8.GetString(rewritten).Should().Be("""{"x":1}""");
    }
}
