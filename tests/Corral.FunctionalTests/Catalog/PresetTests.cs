using System.Net;
using System.Text;
using System.Text.Json;
using Corral.Catalog;
using Corral.FunctionalTests.Infrastructure;
using Corral.Hosting;
using Corral.Simulator;
using Corral.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Catalog;

/// <summary>Model presets: a name of Corral's own, run on a base model with the preset's settings winning over the client's.</summary>
public sealed class PresetTests
{
    private const string SupportBot = """
        {"name":"support-bot","model":"llama3.2","system":"You answer questions about Corral.","options":{"temperature":0.2,"num_ctx":8192,"stop":["END"]},"keepAlive":"30m","think":false,"description":"help desk"}
        """;

    private static IReadOnlyList<ModelPreset> Presets(params string[] definitions) => TestPresets.Parse(definitions);

    private static Task<CorralInstance> StartAsync(SimulatedOllama simulator, string prefix = "", RecordedUsage? usage = null, params string[] presets) =>
        CorralInstance.StartAsync(
            [CorralInstance.Backend(simulator, "a", prefix: prefix.Length == 0 ? null : prefix)],
            s => s with { Presets = Presets(presets) },
            services: usage is null ? null : s => s.AddSingleton<IUsageObserver>(usage));

    private static JsonElement Body(JournalEntry entry)
    {
        using var document = JsonDocument.Parse(entry.Body);
        return document.RootElement.Clone();
    }

    // Every data frame of an OpenAI stream but [DONE] names the model.
    private static async Task AssertEveryFrameNamesAsync(HttpResponseMessage streamed, string model)
    {
        var frames = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f["data: ".Length..]).Where(f => f != "[DONE]").ToArray();
        frames.Should().NotBeEmpty();
        frames.Select(f => JsonDocument.Parse(f).RootElement.GetProperty("model").GetString()).Should().OnlyContain(m => m == model);
    }

    [Fact]
    public async Task NativeChat_Preset_RunsOnTheBaseWithItsSettingsFirst_AnswerNamesThePreset()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/chat", """
            {"model":"support-bot","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"stream":false,"options":{"temperature":0.9,"seed":7},"keep_alive":0,"think":true}
            """);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.JsonAsync()).GetProperty("model").GetString().Should().Be("support-bot");
        var sent = Body(a.Received("/api/chat").Single());
        sent.GetProperty("model").GetString().Should().Be("llama3.2");
        sent.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("role").GetString(), m.GetProperty("content").GetString())).Should().Equal(
            ("system", "You answer questions about Corral."), ("system", "Be brief."), ("user", "hi"));
        var options = sent.GetProperty("options");
        options.GetProperty("temperature").GetDouble().Should().Be(0.2, "the preset's options win");
        options.GetProperty("seed").GetInt32().Should().Be(7, "the client's other options stay");
        options.GetProperty("num_ctx").GetInt32().Should().Be(8192);
        options.GetProperty("stop").EnumerateArray().Select(s => s.GetString()).Should().Equal("END");
        sent.GetProperty("keep_alive").GetString().Should().Be("30m");
        sent.GetProperty("think").GetBoolean().Should().BeFalse();
        sent.GetProperty("stream").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task NativeChat_PresetStreamed_EveryLineNamesThePreset()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/chat", """{"model":"support-bot","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":5}}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var lines = await response.NdjsonAsync();
        lines.Length.Should().BeGreaterThan(2);
        lines.Should().OnlyContain(l => l.GetProperty("model").GetString() == "support-bot");
        lines[^1].GetProperty("done").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task NativeGenerate_Preset_SystemComesBeforeTheClients_OnAPrefixedBackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, prefix: "gpu", presets: """{"name":"poet","model":"gpu.llama3.2","system":"Answer in verse.","options":{"top_p":0.5},"format":"json"}""");
        using var client = corral.Client();

        using var own = await client.PostJsonAsync("/api/generate", """{"model":"poet","prompt":"hi","system":"Rhyme.","stream":false}""");
        using var none = await client.PostJsonAsync("/api/generate", """{"model":"poet","prompt":"hi","stream":false}""");

        own.StatusCode.Should().Be(HttpStatusCode.OK);
        (await own.JsonAsync()).GetProperty("model").GetString().Should().Be("poet");
        var sent = a.Received("/api/generate").Select(Body).ToArray();
        sent.Select(s => s.GetProperty("model").GetString()).Should().Equal("llama3.2", "llama3.2");
        sent[0].GetProperty("system").GetString().Should().Be("Answer in verse.\n\nRhyme.");
        sent[1].GetProperty("system").GetString().Should().Be("Answer in verse.");
        sent.Should().OnlyContain(s => s.GetProperty("options").GetProperty("top_p").GetDouble() == 0.5 && s.GetProperty("format").GetString() == "json");
    }

    [Fact]
    public async Task OpenAiChat_Preset_OptionsWinOverTheMappedFields_StreamedAndNot()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var client = corral.Client();

        using var whole = await client.PostJsonAsync("/v1/chat/completions", """{"model":"support-bot","messages":[{"role":"user","content":"hi"}],"temperature":1.5,"max_tokens":4}""");
        using var streamed = await client.PostJsonAsync("/v1/chat/completions", """{"model":"support-bot","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":4}""");

        whole.StatusCode.Should().Be(HttpStatusCode.OK);
        (await whole.JsonAsync()).GetProperty("model").GetString().Should().Be("support-bot");
        streamed.StatusCode.Should().Be(HttpStatusCode.OK);
        await AssertEveryFrameNamesAsync(streamed, "support-bot");
        var sent = a.Received("/api/chat").Select(Body).ToArray();
        sent.Should().HaveCount(2);
        foreach (var body in sent)
        {
            body.GetProperty("model").GetString().Should().Be("llama3.2");
            body.GetProperty("messages")[0].GetProperty("content").GetString().Should().Be("You answer questions about Corral.");
            body.GetProperty("options").GetProperty("temperature").GetDouble().Should().Be(0.2);
            body.GetProperty("options").GetProperty("num_predict").GetInt32().Should().Be(4, "max_tokens is mapped as always");
            body.GetProperty("keep_alive").GetString().Should().Be("30m");
        }
    }

    [Fact]
    public async Task OpenAiChat_AliasNamedLikeAnOpenAiModel_WorksUnchanged()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: """{"name":"gpt-4o-mini","model":"llama3.2"}""");
        using var client = corral.Client();
        const string Request = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":3}""";

        using var response = await client.PostJsonAsync("/v1/chat/completions", Request);
        using var direct = await client.PostJsonAsync("/v1/chat/completions", Request.Replace("gpt-4o-mini", "llama3.2", StringComparison.Ordinal));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.JsonAsync()).GetProperty("model").GetString().Should().Be("gpt-4o-mini");
        var sent = a.Received("/api/chat").Select(e => Encoding.UTF8.GetString(e.Body)).ToArray();
        JsonDocument.Parse(sent[0]).RootElement.GetProperty("model").GetString().Should().Be("llama3.2");
        JsonSerializer.Serialize(JsonDocument.Parse(sent[0]).RootElement).Should().Be(JsonSerializer.Serialize(JsonDocument.Parse(sent[1]).RootElement), "an alias changes nothing but the name");
    }

    [Fact]
    public async Task OpenAiCompletions_Preset_SystemAndOptionsReachGenerate_AnswerNamesThePreset()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var client = corral.Client();

        using var whole = await client.PostJsonAsync("/v1/completions", """{"model":"support-bot","prompt":"Once upon a time","temperature":1.5,"max_tokens":5}""");
        using var streamed = await client.PostJsonAsync("/v1/completions", """{"model":"support-bot","prompt":"Once upon a time","stream":true,"max_tokens":5}""");

        whole.StatusCode.Should().Be(HttpStatusCode.OK);
        var answer = await whole.JsonAsync();
        answer.GetProperty("object").GetString().Should().Be("text_completion");
        answer.GetProperty("model").GetString().Should().Be("support-bot");
        await AssertEveryFrameNamesAsync(streamed, "support-bot");
        var sent = a.Received("/api/generate").Select(Body).ToArray();
        sent.Should().HaveCount(2);
        foreach (var body in sent)
        {
            body.GetProperty("model").GetString().Should().Be("llama3.2");
            body.GetProperty("system").GetString().Should().Be("You answer questions about Corral.", "a preset's system prompt is generate's system");
            body.GetProperty("prompt").GetString().Should().Be("Once upon a time");
            body.GetProperty("options").GetProperty("temperature").GetDouble().Should().Be(0.2, "the preset's options win over the mapped ones");
            body.GetProperty("options").GetProperty("num_predict").GetInt32().Should().Be(5, "max_tokens is mapped as always");
            body.GetProperty("keep_alive").GetString().Should().Be("30m");
        }
    }

    [Fact]
    public async Task OpenAiEmbeddings_Preset_OptionsReachTheBackend_AnswerNamesThePreset()
    {
        await using var a = await Sim.StartAsync("nomic-embed-text");
        await using var corral = await StartAsync(a, presets: """{"name":"search-embed","model":"nomic-embed-text","options":{"num_ctx":2048},"keepAlive":600}""");
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/embeddings", """{"model":"search-embed","input":"hello"}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.JsonAsync()).GetProperty("model").GetString().Should().Be("search-embed");
        var sent = Body(a.Received("/api/embed").Single());
        sent.GetProperty("model").GetString().Should().Be("nomic-embed-text");
        sent.GetProperty("options").GetProperty("num_ctx").GetInt32().Should().Be(2048);
        sent.GetProperty("keep_alive").GetInt32().Should().Be(600);
        sent.TryGetProperty("think", out _).Should().BeFalse("embeddings take no think");
    }

    [Fact]
    public async Task Show_Preset_IsTheBasesWithThePresetsSystemParametersAndModelfile()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/show", """{"model":"support-bot"}""");
        using var plain = await client.PostJsonAsync("/api/show", """{"model":"llama3.2"}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var shown = await response.JsonAsync();
        var base_ = await plain.JsonAsync();
        a.Received("/api/show").Select(e => e.Model).Should().Equal("llama3.2", "llama3.2");
        shown.GetProperty("system").GetString().Should().Be("You answer questions about Corral.");
        shown.GetProperty("details").GetProperty("parent_model").GetString().Should().Be("llama3.2:latest");
        shown.GetProperty("details").GetProperty("family").GetString().Should().Be(base_.GetProperty("details").GetProperty("family").GetString());
        shown.GetProperty("template").GetString().Should().Be(base_.GetProperty("template").GetString());
        var parameters = shown.GetProperty("parameters").GetString()!.Split('\n');
        parameters.Should().Contain("num_keep                       24", "the base's own parameters stay");
        parameters.Should().Contain("temperature                    0.2");
        parameters.Should().Contain("num_ctx                        8192");
        parameters.Should().Contain("stop                           \"END\"");
        parameters.Should().NotContain(p => p.Contains("eot_id", StringComparison.Ordinal), "the preset's stop list replaces the base's");
        var modelfile = shown.GetProperty("modelfile").GetString()!;
        modelfile.Should().Contain("# FROM support-bot\n");
        modelfile.Should().Contain("\nFROM /root/.ollama/models/blobs/sha256-");
        modelfile.Should().Contain("\nSYSTEM You answer questions about Corral.\n");
        modelfile.Should().Contain("\nPARAMETER temperature 0.2\n").And.Contain("\nPARAMETER stop END\n");
    }

    [Fact]
    public async Task Listings_Preset_IsAModelOfItsOwn_WithItsParent()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var client = corral.Client();

        var tags = await (await client.GetAsync("/api/tags")).JsonAsync();
        var models = await (await client.GetAsync("/v1/models")).JsonAsync();
        using var one = await client.GetAsync("/v1/models/support-bot");

        tags.ModelNames().Should().Equal("llama3.2:latest", "qwen3:latest", "support-bot");
        var entry = tags.GetProperty("models")[2];
        var base_ = tags.GetProperty("models")[0];
        entry.GetProperty("model").GetString().Should().Be("support-bot");
        entry.GetProperty("details").GetProperty("parent_model").GetString().Should().Be("llama3.2:latest");
        entry.GetProperty("details").GetProperty("family").GetString().Should().Be(base_.GetProperty("details").GetProperty("family").GetString());
        entry.GetProperty("digest").GetString().Should().Be(base_.GetProperty("digest").GetString());
        models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Should().Equal("llama3.2:latest", "qwen3:latest", "support-bot");
        one.StatusCode.Should().Be(HttpStatusCode.OK);
        (await one.JsonAsync()).GetProperty("id").GetString().Should().Be("support-bot");
    }

    [Fact]
    public async Task AllowList_PresetAndBaseAreAllowedSeparately()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var admin = corral.Client();
        var (_, presetOnly) = await corral.CreateKeyFromAsync("""{"name":"bot","role":"user","models":["support-bot"]}""");
        var (_, baseOnly) = await corral.CreateKeyFromAsync("""{"name":"raw","role":"user","models":["llama3.2"]}""");
        using var bot = corral.Client(presetOnly);
        using var raw = corral.Client(baseOnly);
        const string Chat = """{"model":"MODEL","messages":[{"role":"user","content":"hi"}],"stream":false}""";

        (await bot.PostJsonAsync("/api/chat", Chat.Replace("MODEL", "support-bot", StringComparison.Ordinal))).StatusCode.Should().Be(HttpStatusCode.OK);
        using var botOnBase = await bot.PostJsonAsync("/api/chat", Chat.Replace("MODEL", "llama3.2", StringComparison.Ordinal));
        (await raw.PostJsonAsync("/api/chat", Chat.Replace("MODEL", "llama3.2", StringComparison.Ordinal))).StatusCode.Should().Be(HttpStatusCode.OK);
        using var rawOnPreset = await raw.PostJsonAsync("/v1/chat/completions", Chat.Replace("MODEL", "support-bot", StringComparison.Ordinal));

        botOnBase.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await botOnBase.ErrorAsync()).Should().Be("model 'llama3.2' not found");
        rawOnPreset.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await rawOnPreset.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Be("model 'support-bot' not found");
        (await (await bot.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Equal("support-bot");
        (await (await raw.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Equal("llama3.2:latest");
        (await bot.GetAsync("/v1/models/llama3.2")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        a.Received("/api/chat").Should().HaveCount(2);
    }

    [Fact]
    public async Task UsageRecord_KeepsThePresetAsModel_AndTheBaseAsResolvedModel()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var usage = new RecordedUsage();
        await using var corral = await StartAsync(a, usage: usage, presets: SupportBot);
        using var client = corral.Client();

        (await client.PostJsonAsync("/api/generate", """{"model":"support-bot","prompt":"hi","stream":false}""")).StatusCode.Should().Be(HttpStatusCode.OK);

        var record = await usage.SingleAsync("/api/generate");
        record.Model.Should().Be("support-bot");
        record.ResolvedModel.Should().Be("llama3.2:latest");
    }

    [Fact]
    public async Task Problems_NameOfAListedModelOrUnknownBase_AreReportedInWords_AndAMissingBaseAnswers404()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3");
        await using var corral = await StartAsync(a, presets: ["""{"name":"qwen3","model":"llama3.2"}""", """{"name":"ghost","model":"mistral"}"""]);
        using var client = corral.Client();

        var presets = (await (await client.GetAsync("/admin/api/presets")).JsonAsync()).GetProperty("presets").EnumerateArray().ToArray();
        using var shadowed = await client.PostJsonAsync("/api/generate", """{"model":"qwen3","prompt":"hi","stream":false}""");
        using var ghost = await client.PostJsonAsync("/api/chat", """{"model":"ghost","messages":[{"role":"user","content":"hi"}]}""");
        using var ghostOpenAi = await client.PostJsonAsync("/v1/chat/completions", """{"model":"ghost","messages":[{"role":"user","content":"hi"}]}""");

        presets.Select(p => p.GetProperty("problem").GetString()).Should().Equal(
            "preset 'qwen3' has the name of the model 'qwen3:latest' that a list(s); the model is served, not the preset: rename the preset",
            "preset 'ghost': its base model 'mistral' is not listed by any backend; requests for 'ghost' are answered 404 until it is");
        shadowed.StatusCode.Should().Be(HttpStatusCode.OK);
        Body(a.Received("/api/generate").Single()).GetProperty("model").GetString().Should().Be("qwen3", "the listed model wins");
        ghost.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ghost.ErrorAsync()).Should().Be("model 'ghost' is a preset of 'mistral', which no backend lists");
        ghostOpenAi.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ghostOpenAi.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Contain("'mistral'");
        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Equal("llama3.2:latest", "qwen3:latest");
    }

    [Fact]
    public async Task AdminApi_NameWithSlashes_AddressableAsWrittenAndEncoded()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        using var created = await admin.PostJsonAsync("/admin/api/presets", """{"name":"acme/support-bot","model":"llama3.2"}""");
        using var plain = await admin.GetAsync(new Uri(created.Headers.Location!.ToString(), UriKind.Relative));
        using var raw = await admin.GetAsync("/admin/api/presets/acme/support-bot");
        using var chat = await admin.PostJsonAsync("/api/chat", """{"model":"acme/support-bot","messages":[{"role":"user","content":"hi"}],"stream":false}""");
        using var removed = await admin.DeleteAsync("/admin/api/presets/acme%2Fsupport-bot");
        using var gone = await admin.GetAsync("/admin/api/presets/acme/support-bot");

        created.StatusCode.Should().Be(HttpStatusCode.Created);
        created.Headers.Location!.ToString().Should().Be("/admin/api/presets/acme%2Fsupport-bot");
        plain.StatusCode.Should().Be(HttpStatusCode.OK, "the Location it gave leads to it");
        (await raw.JsonAsync()).GetProperty("name").GetString().Should().Be("acme/support-bot");
        (await chat.JsonAsync()).GetProperty("model").GetString().Should().Be("acme/support-bot");
        removed.StatusCode.Should().Be(HttpStatusCode.NoContent);
        gone.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AdminApi_AddGetReplaceDelete_StoredAndAudited()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3");
        var data = Path.Combine(Path.GetTempPath(), "corral-ft-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = corral.Client();

                using var created = await admin.PostJsonAsync("/admin/api/presets", SupportBot);
                created.StatusCode.Should().Be(HttpStatusCode.Created);
                created.Headers.Location!.ToString().Should().Be("/admin/api/presets/support-bot");
                var body = await created.JsonAsync();
                body.GetProperty("origin").GetString().Should().Be("api");
                body.GetProperty("resolvedModel").GetString().Should().Be("llama3.2:latest");
                body.GetProperty("options").GetProperty("num_ctx").GetInt32().Should().Be(8192);
                (await (await admin.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Contain("support-bot");

                (await admin.PostJsonAsync("/admin/api/presets", SupportBot)).StatusCode.Should().Be(HttpStatusCode.Conflict);
                using var clash = await admin.PostJsonAsync("/admin/api/presets", """{"name":"qwen3","model":"llama3.2"}""");
                clash.StatusCode.Should().Be(HttpStatusCode.BadRequest);
                (await clash.JsonAsync()).GetProperty("detail").GetString().Should().Be("'qwen3' is the name of the model 'qwen3:latest' that a list(s); a preset needs a name of its own");
                using var unknown = await admin.PostJsonAsync("/admin/api/presets", """{"name":"x","model":"mistral"}""");
                (await unknown.JsonAsync()).GetProperty("detail").GetString().Should().Be("the base 'mistral' is not a model any backend lists (GET /api/tags shows the models)");
                using var bad = await admin.PostJsonAsync("/admin/api/presets", """{"name":"y","model":"llama3.2","options":[1],"think":"very","keep_alive":"5m"}""");
                bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
                (await bad.JsonAsync()).GetProperty("detail").GetString().Should()
                    .Contain("unknown field 'keep_alive'; did you mean 'keepAlive'?").And.Contain("\"options\" must be an object").And.Contain("\"think\" must be true, false");

                using var replaced = await admin.PutAsync("/admin/api/presets/support-bot", new StringContent("""{"model":"qwen3","system":"Short answers."}""", Encoding.UTF8, "application/json"));
                replaced.StatusCode.Should().Be(HttpStatusCode.OK);
                (await replaced.JsonAsync()).GetProperty("resolvedModel").GetString().Should().Be("qwen3:latest");
                (await admin.PostJsonAsync("/api/generate", """{"model":"support-bot","prompt":"hi","stream":false}""")).StatusCode.Should().Be(HttpStatusCode.OK);
                Body(a.Received("/api/generate").Single()).GetProperty("system").GetString().Should().Be("Short answers.");
            }

            await using (var restarted = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = restarted.Client();
                using var kept = await admin.GetAsync("/admin/api/presets/support-bot");
                kept.StatusCode.Should().Be(HttpStatusCode.OK, "an API-added preset is stored");
                (await kept.JsonAsync()).GetProperty("model").GetString().Should().Be("qwen3");

                (await admin.DeleteAsync("/admin/api/presets/support-bot")).StatusCode.Should().Be(HttpStatusCode.NoContent);
                (await admin.GetAsync("/admin/api/presets/support-bot")).StatusCode.Should().Be(HttpStatusCode.NotFound);
                (await admin.PostJsonAsync("/api/chat", """{"model":"support-bot","messages":[{"role":"user","content":"hi"}]}""")).StatusCode.Should().Be(HttpStatusCode.NotFound);

                var events = (await (await admin.GetAsync("/admin/api/audit")).JsonAsync()).GetProperty("events").EnumerateArray().ToArray();
                events.Select(e => (e.GetProperty("action").GetString(), e.GetProperty("target").GetString())).Should().Equal(
                    ("preset.remove", "support-bot"), ("preset.replace", "support-bot"), ("preset.add", null), ("preset.add", null), ("preset.add", null), ("preset.add", null), ("preset.add", "support-bot"));
                events[1].GetProperty("outcome").GetString().Should().Be("ok");
                events[2].GetProperty("outcome").GetString().Should().StartWith("400 ");
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task AdminApi_ConfigurationPreset_IsListedButNotChangedHere()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var admin = corral.Client();

        var listed = (await (await admin.GetAsync("/admin/api/presets")).JsonAsync()).GetProperty("presets").EnumerateArray().Single();
        using var delete = await admin.DeleteAsync("/admin/api/presets/support-bot");

        listed.GetProperty("origin").GetString().Should().Be("config");
        listed.GetProperty("problem").ValueKind.Should().Be(JsonValueKind.Null);
        delete.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await delete.JsonAsync()).GetProperty("detail").GetString().Should().Contain("configuration file");
    }

    [Fact]
    public async Task ConfigFile_PresetsReloadedWithTheFile_ABrokenEditKeepsThemAsTheyWere()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3");
        var path = Path.Combine(Path.GetTempPath(), $"corral-ft-config-{Guid.NewGuid():N}.json");
        var url = a.BaseAddress.ToString().TrimEnd('/');
        void Write(string presets)
        {
            File.WriteAllText(path + ".tmp", $$"""{"backends":[{"name":"a","url":"{{url}}"}],"presets":{{presets}}}""");
            File.Move(path + ".tmp", path, overwrite: true);
        }

        try
        {
            Write("""[{"name":"bot","model":"llama3.2"}]""");
            var problems = new List<string>();
            var contents = ConfigFile.Read(path, problems);
            problems.Should().BeEmpty();
            await using var corral = await CorralInstance.StartAsync(contents.Backends, s => s with { ConfigFile = path, ConfigPollInterval = TimeSpan.FromMilliseconds(100), Presets = contents.Presets });
            using var client = corral.Client();
            async Task<string?> ParentOfBotAsync()
            {
                var tags = await (await client.GetAsync("/api/tags")).JsonAsync();
                return tags.GetProperty("models").EnumerateArray().Where(m => m.GetProperty("name").GetString() == "bot")
                    .Select(m => m.GetProperty("details").GetProperty("parent_model").GetString()).FirstOrDefault();
            }

            (await ParentOfBotAsync()).Should().Be("llama3.2:latest");

            Write("""[{"name":"bot","model":"qwen3"}]""");
            await Eventually.WaitUntilAsync(async () => await ParentOfBotAsync() == "qwen3:latest", "the edited preset runs on qwen3");

            Write("""[{"name":"bot","model":"qwen3","think":"sometimes"}]""");
            await Eventually.WaitUntilAsync(() => corral.Server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ConfigWatcher>().Single().Problems.Count > 0, "the broken edit is reported");
            corral.Server.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ConfigWatcher>().Single().Problems.Should().Equal($"{path}: presets[0]: \"think\" must be true, false, \"low\", \"medium\", \"high\" or \"max\"");
            (await ParentOfBotAsync()).Should().Be("qwen3:latest", "a file with problems changes nothing");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ModelManagement_PresetName_IsNoModelToDeleteOrCopy()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, presets: SupportBot);
        using var client = corral.Client();

        using var delete = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = new StringContent("""{"model":"support-bot"}""", Encoding.UTF8, "application/json") });
        using var copy = await client.PostJsonAsync("/api/copy", """{"source":"support-bot","destination":"other"}""");

        delete.StatusCode.Should().Be(HttpStatusCode.NotFound);
        copy.StatusCode.Should().Be(HttpStatusCode.NotFound);
        a.Received("/api/delete").Should().BeEmpty("deleting a preset's name must not delete its base");
        a.Received("/api/copy").Should().BeEmpty();
    }
}
