using System.Net;
using System.Text;
using Corral.Fleet;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Native;

/// <summary>Backends that cannot be reached, and input a client should not have sent.</summary>
public sealed class FailureTests
{
    [Fact]
    public async Task Chat_BackendStoppedListening_503NamesBackendAndCause()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "gpu-box")]);
        using var client = corral.Client();
        (await client.GetAsync("/api/tags")).EnsureSuccessStatusCode();
        await a.StopAsync();

        using var response = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""");

        // A refused connection takes the only holder out at once: the model is unavailable, not broken.
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter.Should().NotBeNull();
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var error = await response.ErrorAsync();
        error.Should().Contain("backend 'gpu-box'").And.Contain(a.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).And.Contain("connection refused");
    }

    [Fact]
    public async Task Version_NoBackendReachable_502ListsEachBackend()
    {
        await using var corral = await CorralInstance.StartAsync([new BackendOptions { Name = "nowhere", Url = new Uri("http://127.0.0.1:9") }]);
        using var client = corral.Client();

        using var response = await client.GetAsync("/api/version");

        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.ErrorAsync()).Should().Contain("nowhere: connection refused");
    }

    public static TheoryData<string, string, int, string> BadRequests() => new()
    {
        { "/api/chat", "{\"model\":", 400, "invalid JSON in request body" },
        { "/api/chat", "", 400, "missing request body" },
        { "/api/chat", "[1,2]", 400, "invalid request body: expected a JSON object" },
        { "/api/chat", "{\"messages\":[]}", 400, "model is required" },
        { "/api/generate", "{\"prompt\":\"x\"}", 404, "model '' not found" },
        { "/api/chat", "{\"model\":42}", 400, "invalid request body: \"model\" must be a string" },
        { "/api/generate", "{\"model\":\"llama3.2\",\"stream\":\"yes\"}", 400, "invalid request body: \"stream\" must be true or false" },
        { "/api/embed", "{\"model\":\"llama3.2\"} trailing", 400, "invalid JSON in request body" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_ClearOllamaErrorAndNoBackendCall(string path, string body, int status, string error)
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync(path, body);

        ((int)response.StatusCode).Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.ErrorAsync()).Should().StartWith(error);
        a.Received(path).Should().BeEmpty();
    }

    [Fact]
    public async Task BadInput_InvalidUtf8_Is400NotACrash()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var content = new ByteArrayContent([.. "{\"model\":\""u8, 0xC3, 0x28, .. "\"}"u8]);
        using var response = await client.PostAsync("/api/chat", content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.ErrorAsync()).Should().StartWith("invalid JSON in request body");
        (await client.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK, "Corral is still serving");
    }

    [Fact]
    public async Task BadInput_BodyOverTheLimit_413()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { MaxBodyBytes = 1024 });
        using var client = corral.Client();

        var big = "{\"model\":\"llama3.2\",\"prompt\":\"" + new string('x', 4096) + "\"}";
        using var response = await client.PostJsonAsync("/api/generate", big);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await response.ErrorAsync()).Should().Contain("1024 bytes");
        a.Received("/api/generate").Should().BeEmpty();
    }

    [Fact]
    public async Task UnknownRouteAndWrongMethod_OllamaShaped404And405()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var unknown = await client.GetAsync("/api/nothing-here");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.ErrorAsync()).Should().Contain("/api/nothing-here");

        using var wrongMethod = await client.GetAsync("/ollama/api/chat");
        wrongMethod.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        wrongMethod.Content.Headers.Allow.Should().Contain("POST");
        (await wrongMethod.ErrorAsync()).Should().Contain("GET");

        using var put = new HttpRequestMessage(HttpMethod.Put, "/api/delete") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        using var deleteWithPut = await client.SendAsync(put);
        deleteWithPut.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
    }
}
