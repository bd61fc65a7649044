using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Native;

/// <summary>One model list for many backends: merging, prefixes, allow-lists, ps and version.</summary>
public sealed class CatalogTests
{
    [Fact]
    public async Task Tags_TwoBackendsShareAModel_ListsEachModelOnce()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3");
        await using var b = await Sim.StartAsync("llama3.2", "gemma3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var response = await client.GetAsync("/api/tags");

        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var names = (await response.JsonAsync()).ModelNames();
        names.Should().BeEquivalentTo(["llama3.2:latest", "qwen3:latest", "gemma3:latest"]);
    }

    [Fact]
    public async Task Tags_UnderOllamaPath_AnswersLikeTheRoot()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        var root = await (await client.GetAsync("/api/tags")).Content.ReadAsStringAsync();
        var owui = await (await client.GetAsync("/ollama/api/tags")).Content.ReadAsStringAsync();

        owui.Should().Be(root);
        (await (await client.GetAsync("/ollama/")).Content.ReadAsStringAsync()).Should().Be("Ollama is running");
    }

    [Fact]
    public async Task Prefix_ShownInTagsAndStrippedWhenForwarding()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2", "gemma3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b", prefix: "gpu")]);
        using var client = corral.Client();

        var tags = await (await client.GetAsync("/api/tags")).JsonAsync();
        tags.ModelNames().Should().BeEquivalentTo(["llama3.2:latest", "gpu.llama3.2:latest", "gpu.gemma3:latest"]);
        tags.GetProperty("models").EnumerateArray().Should().OnlyContain(m => m.GetProperty("name").GetString() == m.GetProperty("model").GetString());

        using var chat = await client.PostJsonAsync("/api/chat", """{"model":"gpu.gemma3","messages":[{"role":"user","content":"hi"}],"stream":false}""");
        chat.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        chat.Backend().Should().Be("b");
        b.Received("/api/chat").Single().Model.Should().Be("gemma3", "the prefix is stripped before the backend sees the name");
        a.Received("/api/chat").Should().BeEmpty();

        using var show = await client.PostJsonAsync("/api/show", """{"model":"gpu.llama3.2"}""");
        show.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        b.Received("/api/show").Single().Model.Should().Be("llama3.2");
    }

    [Fact]
    public async Task AllowList_HidesEverythingElseOfThatBackend()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3", "gemma3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a", models: ["qwen3"])]);
        using var client = corral.Client();

        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Equal("qwen3:latest");
        using var hidden = await client.PostJsonAsync("/api/generate", """{"model":"gemma3","prompt":"hi"}""");
        hidden.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        (await hidden.ErrorAsync()).Should().Be("model 'gemma3' not found");
        a.Received("/api/generate").Should().BeEmpty();
    }

    [Fact]
    public async Task Ps_MergesLoadedModelsOfAllBackends_WithPrefixes()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("gemma3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b", prefix: "gpu")]);
        using var client = corral.Client();
        (await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""")).EnsureSuccessStatusCode();
        (await client.PostJsonAsync("/api/generate", """{"model":"gpu.gemma3","prompt":"hi","stream":false}""")).EnsureSuccessStatusCode();

        var ps = await (await client.GetAsync("/api/ps")).JsonAsync();

        ps.ModelNames().Should().BeEquivalentTo(["llama3.2:latest", "gpu.gemma3:latest"]);
        ps.GetProperty("models").EnumerateArray().Select(m => m.TryGetProperty("expires_at", out var expires) && expires.ValueKind == System.Text.Json.JsonValueKind.String).Should().OnlyContain(hasExpiry => hasExpiry);
    }

    [Fact]
    public async Task Version_IsTheLowestAmongReachableBackends()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.Version = "0.12.6");
        await using var b = await Sim.StartAsync(["llama3.2"], o => o.Version = "0.9.3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        (await (await client.GetAsync("/api/version")).JsonAsync()).GetProperty("version").GetString().Should().Be("0.9.3");

        await b.StopAsync();
        (await (await client.GetAsync("/api/version")).JsonAsync()).GetProperty("version").GetString().Should().Be("0.12.6");
    }

    [Fact]
    public async Task Tags_SlowBackend_DoesNotDelayBeyondTheListingTimeout()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var slow = await Sim.StartAsync("qwen3");
        slow.Faults.Hang = true;
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a"), CorralInstance.Backend(slow, "slow")],
            s => s with { ListingTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = corral.Client();
        // Without the listing timeout this request would wait for the hung backend and hit the client's own timeout.
        client.Timeout = TimeSpan.FromSeconds(15);

        var names = (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames();

        names.Should().Equal("llama3.2:latest");
    }
}
