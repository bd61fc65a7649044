using System.Net;
using System.Text;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;

namespace Corral.FunctionalTests.Admin;

/// <summary>Operating the fleet through the admin API: backends added, changed, switched, drained, checked; models unloaded.</summary>
public sealed class FleetAdminTests
{
    private const string Generate = """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":2}}""";

    [Fact]
    public async Task AddBackend_ItsModelBecomesRoutable_AndItSurvivesARestart()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        var data = NewDataDirectory();
        try
        {
            await using (var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = corral.Client();
                using var added = await admin.PostJsonAsync("/admin/api/backends", $$"""
                    {"name":"b","url":"{{Url(b)}}","key":"token-of-b","priority":1,"connectTimeout":3,"tags":["spare"]}
                    """);

                added.StatusCode.Should().Be(HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
                added.Headers.Location!.ToString().Should().Be("/admin/api/backends/b");
                var backend = await added.JsonAsync();
                backend.GetProperty("origin").GetString().Should().Be("api");
                backend.GetProperty("state").GetString().Should().Be("healthy");
                backend.GetProperty("hasKey").GetBoolean().Should().BeTrue();
                backend.GetProperty("priority").GetInt32().Should().Be(1);
                backend.GetProperty("timeouts").GetProperty("connect").GetDouble().Should().Be(3);
                backend.GetProperty("models").EnumerateArray().Select(m => m.GetString()).Should().Equal("qwen3:latest");
                backend.TryGetProperty("key", out _).Should().BeFalse("the key is never shown");

                using var generated = await admin.PostJsonAsync("/api/generate", """{"model":"qwen3","prompt":"hi","stream":false}""");
                generated.StatusCode.Should().Be(HttpStatusCode.OK);
                generated.Backend().Should().Be("b");
                b.Received("/api/generate").Should().ContainSingle().Which.Headers["Authorization"].Should().Be("Bearer token-of-b");
            }

            b.Journal.Clear();
            await using (var restarted = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = restarted.Client();
                var backend = await (await admin.GetAsync("/admin/api/backends/b")).JsonAsync();
                backend.GetProperty("origin").GetString().Should().Be("api");
                backend.GetProperty("priority").GetInt32().Should().Be(1);
                backend.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("spare");

                using var generated = await admin.PostJsonAsync("/api/generate", """{"model":"qwen3","prompt":"hi","stream":false}""");
                generated.Backend().Should().Be("b");
                b.Received("/api/generate").Should().ContainSingle().Which.Headers["Authorization"].Should().Be("Bearer token-of-b", "the stored key is the backend's credential");
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Restart_ConfigurationNowHasTheStoredName_TheConfiguredBackendWins()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var c = await Sim.StartAsync("phi3");
        var data = NewDataDirectory();
        try
        {
            await using (var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = corral.Client();
                (await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"b","url":"{{Url(b)}}"}""")).EnsureSuccessStatusCode();
            }

            await using var restarted = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(c, "b")], dataDirectory: data);
            using var client = restarted.Client();
            var backend = await (await client.GetAsync("/admin/api/backends/b")).JsonAsync();
            backend.GetProperty("origin").GetString().Should().Be("configuration");
            backend.GetProperty("url").GetString().Should().Be(Url(c));
            (await BackendNamesAsync(client)).Should().Equal("a", "b");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task AddBackend_NameOrUrlAlreadyInTheFleet_409()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        using var sameName = await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"A","url":"{{Url(b)}}"}""");
        using var sameUrl = await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"other","url":"{{Url(a)}}/"}""");

        (await ProblemAsync(sameName, HttpStatusCode.Conflict)).Should().Contain("a backend named 'a' already exists");
        (await ProblemAsync(sameUrl, HttpStatusCode.Conflict)).Should().Contain("backend 'a' already has the URL");
        (await BackendNamesAsync(admin)).Should().Equal("a");
    }

    [Fact]
    public async Task AddBackend_WithoutName_IsNamedAfterHostAndPort()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        using var added = await admin.PostJsonAsync("/admin/api/backends", $$"""{"url":"{{Url(b)}}"}""");

        added.StatusCode.Should().Be(HttpStatusCode.Created);
        (await added.JsonAsync()).GetProperty("name").GetString().Should().Be($"127.0.0.1:{b.BaseAddress.Port}");
    }

    public static TheoryData<string, string[]> BadBackendBodies() => new()
    {
        { "{\"url\":", ["the body is not valid JSON", "like {\"name\""] },
        { "", ["the body is empty"] },
        { "[1,2]", ["the body must be a JSON object"] },
        { "\"http://x:1\"", ["the body must be a JSON object"] },
        { "{}", ["\"url\" is required"] },
        { "{\"url\":\"10.0.0.5:11434\"}", ["did you mean http://10.0.0.5:11434?"] },
        { "{\"url\":\"ftp://x:1\"}", ["only http and https"] },
        {
            "{\"url\":5,\"name\":7,\"weight\":\"heavy\",\"models\":\"llama3.2\",\"enabled\":\"yes\",\"priority\":\"first\",\"idleTimeout\":true}",
            ["\"url\" must be a string", "\"name\" must be a string", "\"weight\" must be a number", "\"models\" must be a list of strings", "\"enabled\" must be true or false", "\"priority\" must be a number", "\"idleTimeout\" must be a number"]
        },
        {
            "{\"url\":\"http://x:1\",\"name\":\"bad name!\",\"prefix\":\"a.b\",\"weight\":0,\"maxConcurrency\":-1,\"priority\":1.5,\"connectTimeout\":-1}",
            ["backend name 'bad name!' may use only", "prefix 'a.b' may use only", "weight must be greater than 0", "maxConcurrency must be a whole number", "priority must be a whole number", "connectTimeout must be a positive number of seconds"]
        },
        { "{\"url\":\"http://x:1\",\"nmae\":\"x\",\"Prefix\":\"p\"}", ["unknown field 'nmae' (known: name, url", "unknown field 'Prefix'; did you mean 'prefix'?"] },
        { "{\"url\":\"http://x:1\",\"maxConcurrency\":1e12,\"weight\":1e400}", ["maxConcurrency must be a whole number", "\"weight\" is too large"] },
        { "{\"url\":\"http://x:1\",\"key\":\"two\\nlines\"}", ["\"key\" may use only visible ASCII characters"] },
        { "{\"url\":\"http://x:1\",\"key\":\"ключ\"}", ["\"key\" may use only visible ASCII characters"] },
    };

    [Theory]
    [MemberData(nameof(BadBackendBodies))]
    public async Task AddBackend_BadBody_400ProblemListingEveryProblem(string body, string[] expected)
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        using var response = await admin.PostJsonAsync("/admin/api/backends", body);

        var detail = await ProblemAsync(response, HttpStatusCode.BadRequest);
        foreach (var part in expected)
        {
            detail.Should().Contain(part);
        }

        (await BackendNamesAsync(admin)).Should().Equal("a");
    }

    [Fact]
    public async Task GetBackend_ShowsConfigurationStateAndLiveCounters_UnknownNameIs404()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a") with { MaxConcurrency = 4, Tags = ["gpu"] }]);
        using var admin = corral.Client();
        (await admin.PostJsonAsync("/api/generate", Generate)).EnsureSuccessStatusCode();

        var backend = await (await admin.GetAsync("/admin/api/backends/a")).JsonAsync();
        var list = await (await admin.GetAsync("/admin/api/backends")).JsonAsync();
        using var unknown = await admin.GetAsync("/admin/api/backends/nope");

        backend.GetProperty("state").GetString().Should().Be("healthy");
        backend.GetProperty("origin").GetString().Should().Be("configuration");
        backend.GetProperty("enabled").GetBoolean().Should().BeTrue();
        backend.GetProperty("maxConcurrency").GetInt32().Should().Be(4);
        backend.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("gpu");
        backend.GetProperty("inFlight").GetInt32().Should().Be(0);
        backend.GetProperty("queueDepth").GetInt32().Should().Be(0);
        backend.GetProperty("consecutiveFailures").GetInt32().Should().Be(0);
        backend.GetProperty("lastError").ValueKind.Should().Be(JsonValueKind.Null);
        backend.GetProperty("latencyMs").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        backend.GetProperty("timeouts").GetProperty("connect").GetDouble().Should().Be(corral.Settings.ConnectTimeout.TotalSeconds);
        backend.GetProperty("timeouts").GetProperty("firstByte").GetDouble().Should().Be(corral.Settings.FirstByteTimeout.TotalSeconds);
        backend.GetProperty("timeouts").GetProperty("idle").GetDouble().Should().Be(corral.Settings.IdleTimeout.TotalSeconds);
        var loaded = backend.GetProperty("loadedModels").EnumerateArray().Single();
        loaded.GetProperty("name").GetString().Should().Be("llama3.2:latest");
        loaded.GetProperty("expiresAt").GetDateTimeOffset().Should().BeAfter(DateTimeOffset.UtcNow);
        list.GetProperty("queueDepth").GetInt32().Should().Be(0);
        list.GetProperty("backends").EnumerateArray().Single().GetProperty("name").GetString().Should().Be("a");
        (await ProblemAsync(unknown, HttpStatusCode.NotFound)).Should().Be("no backend named 'nope' (the backends are: a)");
    }

    [Fact]
    public async Task ReplaceBackend_ApiBackendTakesTheNewSettingsAndKeepsThem_ConfiguredOneIs409()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        var data = NewDataDirectory();
        try
        {
            await using (var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = corral.Client();
                (await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"b","url":"{{Url(b)}}"}""")).EnsureSuccessStatusCode();

                using var replaced = await Put(admin, "/admin/api/backends/b", $$"""{"url":"{{Url(b)}}","prefix":"spare","weight":2}""");
                using var configured = await Put(admin, "/admin/api/backends/a", $$"""{"url":"{{Url(a)}}","weight":2}""");
                using var renamed = await Put(admin, "/admin/api/backends/b", $$"""{"name":"c","url":"{{Url(b)}}"}""");
                using var unknown = await Put(admin, "/admin/api/backends/nope", $$"""{"url":"{{Url(b)}}"}""");
                using var badBody = await Put(admin, "/admin/api/backends/b", """{"url":"http://x:1","weight":"heavy"}""");

                replaced.StatusCode.Should().Be(HttpStatusCode.OK, await replaced.Content.ReadAsStringAsync());
                var backend = await replaced.JsonAsync();
                backend.GetProperty("prefix").GetString().Should().Be("spare");
                backend.GetProperty("weight").GetDouble().Should().Be(2);
                (await ProblemAsync(configured, HttpStatusCode.Conflict)).Should().Contain("defined in Corral's configuration").And.Contain("reloaded automatically");
                (await ProblemAsync(renamed, HttpStatusCode.BadRequest)).Should().Contain("cannot be renamed");
                (await ProblemAsync(unknown, HttpStatusCode.NotFound)).Should().Contain("no backend named 'nope'");
                (await ProblemAsync(badBody, HttpStatusCode.BadRequest)).Should().Contain("\"weight\" must be a number");
                using var generated = await admin.PostJsonAsync("/api/generate", """{"model":"spare.qwen3","prompt":"hi","stream":false}""");
                generated.Backend().Should().Be("b");
            }

            await using (var restarted = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = restarted.Client();
                var backend = await (await admin.GetAsync("/admin/api/backends/b")).JsonAsync();
                backend.GetProperty("prefix").GetString().Should().Be("spare");
                backend.GetProperty("weight").GetDouble().Should().Be(2);
            }
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task DeleteBackend_ApiBackendIsGoneForGood_ConfiguredOneIs409()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        var data = NewDataDirectory();
        try
        {
            await using (var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = corral.Client();
                (await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"b","url":"{{Url(b)}}"}""")).EnsureSuccessStatusCode();

                using var deleted = await admin.DeleteAsync("/admin/api/backends/b");
                using var configured = await admin.DeleteAsync("/admin/api/backends/a");
                using var again = await admin.DeleteAsync("/admin/api/backends/b");

                deleted.StatusCode.Should().Be(HttpStatusCode.NoContent);
                (await ProblemAsync(configured, HttpStatusCode.Conflict)).Should().Contain("defined in Corral's configuration");
                (await ProblemAsync(again, HttpStatusCode.NotFound)).Should().Contain("no backend named 'b'");
                using var generated = await admin.PostJsonAsync("/api/generate", """{"model":"qwen3","prompt":"hi","stream":false}""");
                generated.StatusCode.Should().Be(HttpStatusCode.NotFound);
            }

            await using var restarted = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data);
            using var client = restarted.Client();
            (await BackendNamesAsync(client)).Should().Equal("a");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Disable_RequestsNoLongerGoThere_AndEnableBringsItBack()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        // b is a later priority tier: while a is enabled, everything goes to a.
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b") with { Priority = 1 }]);
        using var admin = corral.Client();
        (await admin.PostJsonAsync("/api/generate", Generate)).Backend().Should().Be("a");
        a.Journal.Clear();

        using var disabled = await admin.PostAsync("/admin/api/backends/a/disable", null);
        var served = new List<string?>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await admin.PostJsonAsync("/api/generate", Generate);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            served.Add(response.Backend());
        }

        disabled.StatusCode.Should().Be(HttpStatusCode.OK);
        var backend = await disabled.JsonAsync();
        backend.GetProperty("state").GetString().Should().Be("disabled");
        backend.GetProperty("enabled").GetBoolean().Should().BeFalse();
        served.Should().AllBe("b");
        a.Received("/api/generate").Should().BeEmpty();

        using var enabled = await admin.PostAsync("/admin/api/backends/a/enable", null);
        (await enabled.JsonAsync()).GetProperty("state").GetString().Should().Be("healthy");
        (await admin.PostJsonAsync("/api/generate", Generate)).Backend().Should().Be("a");
        (await ProblemAsync(await admin.PostAsync("/admin/api/backends/nope/disable", null), HttpStatusCode.NotFound)).Should().Contain("no backend named 'nope'");
    }

    [Fact]
    public async Task Disable_ApiBackend_StaysDisabledAfterARestart()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        var data = NewDataDirectory();
        try
        {
            await using (var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data))
            {
                using var admin = corral.Client();
                (await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"b","url":"{{Url(b)}}"}""")).EnsureSuccessStatusCode();
                (await admin.PostAsync("/admin/api/backends/b/disable", null)).EnsureSuccessStatusCode();
            }

            await using var restarted = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data);
            using var client = restarted.Client();
            var backend = await (await client.GetAsync("/admin/api/backends/b")).JsonAsync();
            backend.GetProperty("state").GetString().Should().Be("disabled");
            using var generated = await client.PostJsonAsync("/api/generate", """{"model":"qwen3","prompt":"hi","stream":false}""");
            generated.StatusCode.Should().Be(HttpStatusCode.NotFound, "a disabled backend's models are not served");
            b.Received("/api/generate").Should().BeEmpty();
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Drain_InFlightStreamFinishes_WhileNewRequestsGoElsewhere()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 20);
        await using var b = await Sim.StartAsync("llama3.2");
        // a has free slots and the model loaded, so without the drain the next request would go to a too.
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a") with { MaxConcurrency = 4 }, CorralInstance.Backend(b, "b") with { Enabled = false }]);
        using var admin = corral.Client();
        using var stream = await admin.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"long","options":{"num_predict":40}}""", HttpCompletionOption.ResponseHeadersRead);
        stream.Backend().Should().Be("a");
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync()).Should().NotBeNull();
        var inFlight = a.Received("/api/generate").Single();

        using var drained = await admin.PostAsync("/admin/api/backends/a/drain", null);
        (await admin.PostAsync("/admin/api/backends/b/enable", null)).EnsureSuccessStatusCode();
        using var next = await admin.PostJsonAsync("/api/generate", Generate);

        inFlight.Completed.IsCompleted.Should().BeFalse("the stream on a is still running");
        var backend = await drained.JsonAsync();
        backend.GetProperty("state").GetString().Should().Be("draining");
        backend.GetProperty("inFlight").GetInt32().Should().Be(1);
        next.StatusCode.Should().Be(HttpStatusCode.OK);
        next.Backend().Should().Be("b", "a draining backend gets nothing new");
        var rest = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        JsonDocument.Parse(rest[^1]).RootElement.GetProperty("done").GetBoolean().Should().BeTrue("the in-flight stream finishes normally");
        a.Received("/api/generate").Should().ContainSingle();

        using var enabled = await admin.PostAsync("/admin/api/backends/a/enable", null);
        (await enabled.JsonAsync()).GetProperty("state").GetString().Should().Be("healthy", "enable ends a drain");
    }

    [Fact]
    public async Task Verify_OllamaServer_OkWithVersionAndModelCount()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync(["qwen3", "all-minilm"], o => o.RequiredBearerKey = "token-of-b");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        using var verified = await admin.PostJsonAsync("/admin/api/backends/verify", $$"""{"url":"{{Url(b)}}","key":"token-of-b"}""");
        using var wrongKey = await admin.PostJsonAsync("/admin/api/backends/verify", $$"""{"url":"{{Url(b)}}","key":"wrong"}""");

        verified.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await verified.JsonAsync();
        body.GetProperty("ok").GetBoolean().Should().BeTrue();
        body.GetProperty("version").GetString().Should().Be(b.Options.Version);
        body.GetProperty("models").GetInt32().Should().Be(2);
        body.TryGetProperty("error", out _).Should().BeFalse();
        var refused = await wrongKey.JsonAsync();
        refused.GetProperty("ok").GetBoolean().Should().BeFalse();
        refused.GetProperty("error").GetString().Should().Contain("401");
        (await BackendNamesAsync(admin)).Should().Equal("a");
    }

    [Fact]
    public async Task Verify_NothingListening_NotOkAndSaysConnectionRefused_MalformedUrlIs400()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var gone = await Sim.StartAsync("llama3.2");
        var goneUrl = Url(gone);
        await gone.DisposeAsync();
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        using var verified = await admin.PostJsonAsync("/admin/api/backends/verify", $$"""{"url":"{{goneUrl}}"}""");
        using var noScheme = await admin.PostJsonAsync("/admin/api/backends/verify", """{"url":"10.0.0.5:11434"}""");
        using var noUrl = await admin.PostJsonAsync("/admin/api/backends/verify", """{"key":5,"extra":1}""");
        using var badKey = await admin.PostJsonAsync("/admin/api/backends/verify", $$"""{"url":"{{goneUrl}}","key":"a\r\nX-Injected: 1"}""");

        verified.StatusCode.Should().Be(HttpStatusCode.OK);
        var body = await verified.JsonAsync();
        body.GetProperty("ok").GetBoolean().Should().BeFalse();
        body.GetProperty("error").GetString().Should().Contain("connection refused").And.Contain("OLLAMA_HOST");
        (await ProblemAsync(noScheme, HttpStatusCode.BadRequest)).Should().Contain("did you mean http://10.0.0.5:11434?");
        (await ProblemAsync(noUrl, HttpStatusCode.BadRequest)).Should().Contain("\"url\" is required").And.Contain("\"key\" must be a string").And.Contain("unknown field 'extra'");
        (await ProblemAsync(badKey, HttpStatusCode.BadRequest)).Should().Contain("\"key\" may use only visible ASCII characters");
    }

    [Fact]
    public async Task Unload_ModelLeavesEveryBackendsMemory_EmbeddingModelsToo()
    {
        await using var a = await Sim.StartAsync("llama3.2", "all-minilm");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var admin = corral.Client();
        (await admin.PostJsonAsync("/api/generate", Generate)).EnsureSuccessStatusCode();
        (await admin.PostJsonAsync("/api/embed", """{"model":"all-minilm","input":"hi"}""")).EnsureSuccessStatusCode();
        (await LoadedOnAsync(a, b)).Should().Contain(["llama3.2:latest", "all-minilm:latest"]);

        using var unloaded = await admin.PostJsonAsync("/admin/api/models/unload", """{"model":"llama3.2"}""");
        using var embedding = await admin.PostJsonAsync("/admin/api/models/unload", """{"model":"all-minilm"}""");

        unloaded.StatusCode.Should().Be(HttpStatusCode.OK, await unloaded.Content.ReadAsStringAsync());
        var body = await unloaded.JsonAsync();
        body.GetProperty("model").GetString().Should().Be("llama3.2");
        var results = body.GetProperty("backends").EnumerateArray().ToArray();
        results.Select(r => r.GetProperty("name").GetString()).Should().BeEquivalentTo(["a", "b"]);
        results.Select(r => r.GetProperty("ok").GetBoolean()).Should().AllBeEquivalentTo(true);
        results.Select(r => r.TryGetProperty("error", out _)).Should().AllBeEquivalentTo(false, "an error is shown only for a failure");
        embedding.StatusCode.Should().Be(HttpStatusCode.OK);
        (await embedding.JsonAsync()).GetProperty("backends").EnumerateArray().Single().GetProperty("ok").GetBoolean().Should().BeTrue();
        (await LoadedOnAsync(a, b)).Should().BeEmpty();
        Encoding.UTF8.GetString(a.Received("/api/embed").Last().Body).Should().Contain("\"keep_alive\":0");
        var backend = await (await admin.GetAsync("/admin/api/backends/a")).JsonAsync();
        backend.GetProperty("loadedModels").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task Unload_UnknownModel404_BadBody400_UnreachableHolderReported()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var admin = corral.Client();
        (await admin.GetAsync("/api/tags")).EnsureSuccessStatusCode();

        using var unknown = await admin.PostJsonAsync("/admin/api/models/unload", """{"model":"nope"}""");
        using var noModel = await admin.PostJsonAsync("/admin/api/models/unload", """{"name":"llama3.2"}""");
        using var wrongType = await admin.PostJsonAsync("/admin/api/models/unload", """{"model":["llama3.2"]}""");
        using var malformed = await admin.PostJsonAsync("/admin/api/models/unload", """{"model":""");
        await b.StopAsync();
        using var partly = await admin.PostJsonAsync("/admin/api/models/unload", """{"model":"llama3.2"}""");

        (await ProblemAsync(unknown, HttpStatusCode.NotFound)).Should().Contain("no backend holds the model 'nope'");
        (await ProblemAsync(noModel, HttpStatusCode.BadRequest)).Should().Contain("\"model\" is required").And.Contain("unknown field 'name'");
        (await ProblemAsync(wrongType, HttpStatusCode.BadRequest)).Should().Contain("\"model\" must be a string");
        (await ProblemAsync(malformed, HttpStatusCode.BadRequest)).Should().Contain("not valid JSON");
        partly.StatusCode.Should().Be(HttpStatusCode.OK);
        var results = (await partly.JsonAsync()).GetProperty("backends").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        results["a"].GetProperty("ok").GetBoolean().Should().BeTrue();
        results["b"].GetProperty("ok").GetBoolean().Should().BeFalse();
        results["b"].GetProperty("error").GetString().Should().Contain("backend 'b'").And.Contain("connection refused");
    }

    [Fact]
    public async Task UserKey_GetsForbiddenOnEveryFleetRoute()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var user = corral.Client(await corral.CreateKeyAsync("user"));
        var body = $$"""{"url":"{{Url(a)}}","model":"llama3.2"}""";

        var routes = new (HttpMethod Method, string Path)[]
        {
            (HttpMethod.Get, "/admin/api/backends"),
            (HttpMethod.Get, "/admin/api/backends/a"),
            (HttpMethod.Post, "/admin/api/backends"),
            (HttpMethod.Put, "/admin/api/backends/a"),
            (HttpMethod.Delete, "/admin/api/backends/a"),
            (HttpMethod.Post, "/admin/api/backends/a/enable"),
            (HttpMethod.Post, "/admin/api/backends/a/disable"),
            (HttpMethod.Post, "/admin/api/backends/a/drain"),
            (HttpMethod.Post, "/admin/api/backends/verify"),
            (HttpMethod.Post, "/admin/api/models/unload"),
        };
        foreach (var (method, path) in routes)
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await user.SendAsync(request);
            (await ProblemAsync(response, HttpStatusCode.Forbidden)).Should().NotBeEmpty($"{method} {path}");
        }

        using var admin = corral.Client();
        var backend = await (await admin.GetAsync("/admin/api/backends/a")).JsonAsync();
        backend.GetProperty("state").GetString().Should().Be("healthy", "nothing the user sent took effect");
        a.Received("/api/generate").Should().BeEmpty();
    }

    private static string Url(SimulatedOllama simulator) => simulator.BaseAddress.ToString().TrimEnd('/');

    private static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "corral-ft-" + Guid.NewGuid().ToString("N"));

    private static Task<HttpResponseMessage> Put(HttpClient client, string path, string json) =>
        client.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Checks the answer is problem JSON with <paramref name="status"/> and returns its detail.</summary>
    private static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(status, text);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using var document = JsonDocument.Parse(text);
        document.RootElement.GetProperty("status").GetInt32().Should().Be((int)status);
        return document.RootElement.GetProperty("detail").GetString()!;
    }

    private static async Task<string[]> BackendNamesAsync(HttpClient admin)
    {
        var list = await (await admin.GetAsync("/admin/api/backends")).JsonAsync();
        return list.GetProperty("backends").EnumerateArray().Select(b => b.GetProperty("name").GetString()!).ToArray();
    }

    /// <summary>What the simulators' own <c>/api/ps</c> lists, across all of them.</summary>
    private static async Task<string[]> LoadedOnAsync(params SimulatedOllama[] simulators)
    {
        using var http = new HttpClient();
        var names = new List<string>();
        foreach (var simulator in simulators)
        {
            var ps = await (await http.GetAsync(new Uri(simulator.BaseAddress, "/api/ps"))).JsonAsync();
            names.AddRange(ps.ModelNames());
        }

        return [.. names];
    }
}
