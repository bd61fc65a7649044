using System.Net;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Native;

/// <summary>Which backend serves a request, and what Corral sends it.</summary>
public sealed class RoutingTests
{
    [Fact]
    public async Task Chat_ModelOnOneBackendOnly_GoesToThatBackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/chat", """{"model":"qwen3","messages":[{"role":"user","content":"hi"}],"stream":false}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Backend().Should().Be("b");
        b.Received("/api/chat").Should().ContainSingle();
        a.Received("/api/chat").Should().BeEmpty();
    }

    [Fact]
    public async Task Generate_BackendBusyWithAStream_NextRequestGoesToTheIdleBackend()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 5);
        await using var b = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 5);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var first = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"long","options":{"num_predict":50}}""", HttpCompletionOption.ResponseHeadersRead);
        var busy = first.Backend();
        using var second = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"short","stream":false,"options":{"num_predict":1}}""");

        busy.Should().NotBeNull();
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        second.Backend().Should().NotBe(busy, "the other backend has no outstanding request");
    }

    [Fact]
    public async Task Requests_UnknownModel_AnswerOllamaNotFoundWithoutCallingAnyBackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        a.Journal.Clear();

        var cases = new (string Path, string Body, string Error)[]
        {
            ("/api/chat", """{"model":"nope","messages":[]}""", "model 'nope' not found"),
            ("/api/generate", """{"model":"nope","prompt":"x"}""", "model 'nope' not found"),
            ("/api/embed", """{"model":"nope","input":"x"}""", "model \"nope\" not found, try pulling it first"),
            ("/api/embeddings", """{"model":"nope","prompt":"x"}""", "model \"nope\" not found, try pulling it first"),
            ("/api/show", """{"model":"nope"}""", "model 'nope:latest' not found"),
        };
        foreach (var (path, body, error) in cases)
        {
            using var response = await client.PostJsonAsync(path, body);
            response.StatusCode.Should().Be(HttpStatusCode.NotFound, path);
            (await response.ErrorAsync()).Should().Be(error, path);
        }

        a.ReceivedBesidesHealthChecks().Should().BeEmpty("an unknown model is answered from the catalog");
    }

    [Fact]
    public async Task Names_ResolveAsOllamaDoes()
    {
        await using var a = await Sim.StartAsync("llama3.2", "myuser/custom");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        foreach (var name in new[] { "llama3.2", "llama3.2:latest", "LLAMA3.2", "library/llama3.2", "registry.ollama.ai/library/llama3.2:latest", "myuser/custom" })
        {
            using var response = await client.PostJsonAsync("/api/show", $$"""{"model":"{{name}}"}""");
            response.StatusCode.Should().Be(HttpStatusCode.OK, name);
        }
    }

    [Fact]
    public async Task Forwarding_SendsTheBackendsHostAndKey_NeverTheClientsAuthorization()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o =>
        {
            o.RequiredBearerKey = "backend-secret-key";
            o.LoopbackHostCheck = true;
        });
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a", key: "backend-secret-key")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = a.Received("/api/chat").Single();
        received.Headers["Authorization"].Should().Be("Bearer backend-secret-key");
        received.Headers["Host"].Should().Be($"{a.BaseAddress.Host}:{a.BaseAddress.Port}");
        received.Headers.Values.Should().NotContain(v => v.Contains(CorralInstance.AdminKey));
    }

    [Fact]
    public async Task Forwarding_KeyHeadersOption_SendsTheCallersKeyNameAndId()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { ForwardKeyHeaders = true });
        var key = await corral.CreateKeyAsync("user", "alice laptop");
        using var client = corral.Client(key);

        (await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""")).EnsureSuccessStatusCode();

        var received = a.Received("/api/generate").Single();
        Uri.UnescapeDataString(received.Headers["X-Corral-Key-Name"]).Should().Be("alice laptop");
        received.Headers["X-Corral-Key-Id"].Should().StartWith("key_");
    }

    [Fact]
    public async Task Forwarding_KeyHeadersOff_SendsNoCallerInformation()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        (await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false}""")).EnsureSuccessStatusCode();

        a.Received("/api/generate").Single().Headers.Keys.Should().NotContain(k => k.StartsWith("X-Corral", StringComparison.OrdinalIgnoreCase));
    }
}
