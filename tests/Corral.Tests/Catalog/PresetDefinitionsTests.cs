using Corral.Catalog;
using Corral.Hosting;

namespace Corral.Tests.Catalog;

public sealed class PresetDefinitionsTests
{
    private static IReadOnlyList<ModelPreset> Parse(string presets, out List<string> problems)
    {
        problems = [];
        return ConfigFile.Parse($$"""{"presets":{{presets}}}""", "corral.json", problems).Presets;
    }

    [Fact]
    public void Parse_FullPreset_EveryFieldIsRead()
    {
        var presets = Parse("""[{"name":"support-bot","model":"gpu1.llama3.2","system":"Be kind.","options":{"temperature":0.2},"keepAlive":"1h","think":"low","format":{"type":"object"},"description":"help"}]""", out var problems);

        problems.Should().BeEmpty();
        var preset = presets.Single();
        preset.Name.Should().Be("support-bot");
        preset.Model.Should().Be("gpu1.llama3.2");
        preset.System.Should().Be("Be kind.");
        preset.Options!.Value.GetProperty("temperature").GetDouble().Should().Be(0.2);
        preset.KeepAliveSpan.Should().Be(TimeSpan.FromHours(1));
        preset.Think!.Value.GetString().Should().Be("low");
        preset.Format!.Value.GetProperty("type").GetString().Should().Be("object");
        preset.Description.Should().Be("help");
        preset.Origin.Should().Be(PresetOrigin.Config);
        PresetDefinitions.Json(preset).Should().Be("""{"name":"support-bot","model":"gpu1.llama3.2","system":"Be kind.","options":{"temperature":0.2},"keepAlive":"1h","think":"low","format":{"type":"object"},"description":"help"}""");
    }

    [Fact]
    public void Parse_NameAndModelOnly_IsAnAlias()
    {
        var preset = Parse("""[{"name":"gpt-4o-mini","model":"llama3.2"}]""", out var problems).Single();

        problems.Should().BeEmpty();
        (preset.System, preset.Options, preset.KeepAlive, preset.Think, preset.Format).Should().Be((null, null, null, null, null));
        preset.KeepAliveSpan.Should().BeNull();
    }

    [Theory]
    [InlineData("""{"model":"llama3.2"}""", "corral.json: presets[0]: \"name\" is required (the model name clients ask for)")]
    [InlineData("""{"name":"bot"}""", "corral.json: presets[0]: \"model\" is required (the base model the preset runs on, as /api/tags lists it)")]
    [InlineData("""{"name":"llama3.2:latest","model":"llama3.2"}""", "corral.json: presets[0]: \"name\" and \"model\" are the same model; a preset needs a name of its own")]
    [InlineData("""{"name":"my bot","model":"llama3.2"}""", "corral.json: presets[0]: \"name\" must be a model name of 1 to 200 characters without spaces")]
    [InlineData("""{"name":"bot","model":"llama3.2","options":"hot"}""", "corral.json: presets[0]: \"options\" must be an object of Ollama's options, like {\"temperature\": 0.2, \"num_ctx\": 8192}")]
    [InlineData("""{"name":"bot","model":"llama3.2","options":{"x":{}}}""", "corral.json: presets[0]: options.x must be a number, a string, true or false, or a list (like \"stop\")")]
    [InlineData("""{"name":"bot","model":"llama3.2","keepAlive":"soon"}""", "corral.json: presets[0]: \"keepAlive\" must be seconds (300) or a duration like \"30m\" or \"1h\" (negative: for ever)")]
    [InlineData("""{"name":"bot","model":"llama3.2","think":"hard"}""", "corral.json: presets[0]: \"think\" must be true, false, \"low\", \"medium\", \"high\" or \"max\"")]
    [InlineData("""{"name":"bot","model":"llama3.2","format":"xml"}""", "corral.json: presets[0]: \"format\" must be \"json\" or a JSON schema object")]
    [InlineData("""{"name":"bot","model":"llama3.2","temperature":0.2}""", "corral.json: presets[0]: unknown field 'temperature' (known: name, model, system, options, keepAlive, think, format, description)")]
    [InlineData("""{"name":"bot","model":"llama3.2","keep_alive":"5m"}""", "corral.json: presets[0]: unknown field 'keep_alive'; did you mean 'keepAlive'?")]
    [InlineData("""[]""", "corral.json: presets[0]: must be an object like {\"name\":\"support-bot\",\"model\":\"llama3.2\",\"system\":\"You answer questions about our product.\",\"options\":{\"temperature\":0.2}}")]
    public void Parse_BadPreset_IsReportedWithItsLocation(string preset, string expected)
    {
        var presets = Parse($"[{preset}]", out var problems);

        presets.Should().BeEmpty();
        problems.Should().Equal(expected);
    }

    [Fact]
    public void Parse_SameNameTwice_AndABaseThatIsAPreset_AreProblems()
    {
        Parse("""[{"name":"bot","model":"llama3.2"},{"name":"BOT:latest","model":"qwen3"},{"name":"bot2","model":"bot"}]""", out var problems);

        problems.Should().Equal(
            "corral.json: presets[1]: the preset name 'BOT:latest' is used twice (also by 'bot'); each preset needs a name of its own",
            "corral.json: presets[2]: its base 'bot' is a preset; a preset's \"model\" is a model the backends list");
    }

    [Fact]
    public void Parse_PresetsNotAList_IsAProblem()
    {
        Parse("""{"name":"bot"}""", out var problems);

        problems.Should().Equal("corral.json: \"presets\" must be a list");
    }

    [Fact]
    public void Presets_SetTheSameDefinitionsAgain_DoesNotRaiseChanged()
    {
        var presets = new Presets();
        var changes = 0;
        presets.Changed += () => changes++;
        var first = Parse("""[{"name":"bot","model":"llama3.2","options":{"top_k":5}}]""", out _);
        var again = Parse("""[{"name":"bot","model":"llama3.2","options":{"top_k":5}}]""", out _);
        var other = Parse("""[{"name":"bot","model":"llama3.2","options":{"top_k":6}}]""", out _);

        presets.SetConfigured(first);
        presets.SetConfigured(again);
        presets.SetConfigured(other);

        changes.Should().Be(2);
        presets.Find("bot:latest")!.Options!.Value.GetProperty("top_k").GetInt32().Should().Be(6);
    }
}
