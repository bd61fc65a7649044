using System.Text;
using Corral.Catalog;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Tests.Forwarding;

public sealed class PresetBodyTests
{
    private static ModelPreset Preset(string json)
    {
        var problems = new List<string>();
        var preset = ConfigFile.Parse($$"""{"presets":[{{json}}]}""", "test", problems).Presets.Single();
        problems.Should().BeEmpty();
        return preset;
    }

    private static string Apply(string body, string preset, string path, string field = "model") =>
        Encoding.UTF8.GetString(PresetBody.Apply(Encoding.UTF8.GetBytes(body), Preset(preset), "llama3.2", path, field));

    [Fact]
    public void Apply_Chat_PresetFieldsWin_SystemFirst_OtherFieldsKeptInPlace()
    {
        var sent = Apply(
            """{"model":"bot","messages":[{"role":"user","content":"hi"}],"options":{"seed":1,"temperature":1},"think":true,"tools":[]}""",
            """{"name":"bot","model":"llama3.2","system":"Sys","options":{"temperature":0.2},"keepAlive":-1,"think":false,"format":"json"}""",
            "/api/chat");

        sent.Should().Be("""{"model":"llama3.2","messages":[{"role":"system","content":"Sys"},{"role":"user","content":"hi"}],"options":{"seed":1,"temperature":0.2},"think":false,"tools":[],"keep_alive":-1,"format":"json"}""");
    }

    [Fact]
    public void Apply_ChatWithoutMessages_LoadsTheModel_NoSystemMessageAdded()
    {
        Apply("""{"model":"bot","messages":[]}""", """{"name":"bot","model":"llama3.2","system":"Sys"}""", "/api/chat")
            .Should().Be("""{"model":"llama3.2","messages":[]}""");
    }

    [Fact]
    public void Apply_Generate_PresetSystemBeforeTheClients()
    {
        Apply("""{"model":"bot","prompt":"p","system":"Mine"}""", """{"name":"bot","model":"llama3.2","system":"Sys"}""", "/api/generate")
            .Should().Be("""{"model":"llama3.2","prompt":"p","system":"Sys\n\nMine"}""");
        Apply("""{"model":"bot","prompt":"p"}""", """{"name":"bot","model":"llama3.2","system":"Sys"}""", "/api/generate")
            .Should().Be("""{"model":"llama3.2","prompt":"p","system":"Sys"}""");
    }

    [Fact]
    public void Apply_Embed_OnlyOptionsAndKeepAlive()
    {
        Apply("""{"model":"bot","input":"x","format":"json"}""", """{"name":"bot","model":"llama3.2","system":"Sys","options":{"num_ctx":512},"think":true,"format":{"type":"object"},"keepAlive":"1m"}""", "/api/embed")
            .Should().Be("""{"model":"llama3.2","input":"x","format":"json","options":{"num_ctx":512},"keep_alive":"1m"}""");
    }

    [Fact]
    public void Apply_ShowByName_OnlyTheNameChanges()
    {
        Apply("""{"name":"bot","verbose":true,"options":{"a":1}}""", """{"name":"bot","model":"llama3.2","options":{"num_ctx":512}}""", "/api/show", field: "name")
            .Should().Be("""{"name":"llama3.2","verbose":true,"options":{"a":1}}""");
    }
}
