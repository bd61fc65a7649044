using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

public sealed class SimulatorModelTests
{
    private static async Task<List<string>> TagNamesAsync(HttpClient client) =>
        [.. (await SimulatorKit.JsonAsync(await client.GetAsync("/api/tags"))).GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()!)];

    [Fact]
    public async Task Tags_InitialModels_ListedWithOllamasFields()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = ["llama3.2", "qwen3:8b", "all-minilm"]);
        using var client = SimulatorKit.Client(simulator);
        var models = (await SimulatorKit.JsonAsync(await client.GetAsync("/api/tags"))).GetProperty("models").EnumerateArray().ToList();

        models.Select(m => m.GetProperty("name").GetString()).Should().Equal("llama3.2:latest", "qwen3:8b", "all-minilm:latest");
        models[0].GetProperty("digest").GetString().Should().MatchRegex("^[0-9a-f]{64}$");
        models[0].GetProperty("modified_at").GetString().Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)$");
        models[1].GetProperty("details").GetProperty("parameter_size").GetString().Should().Be("8B");
        models[2].GetProperty("details").GetProperty("family").GetString().Should().Be("bert");
        simulator.ModelNames.Should().Equal("llama3.2:latest", "qwen3:8b", "all-minilm:latest");
    }

    [Fact]
    public async Task Tags_NoModels_IsAnEmptyArray()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = []);
        using var client = SimulatorKit.Client(simulator);

        (await client.GetStringAsync("/api/tags")).Should().Be("""{"models":[]}""");
        (await client.GetStringAsync("/api/ps")).Should().Be("""{"models":[]}""");
    }

    [Fact]
    public async Task Show_Capabilities_FollowTheModelKind()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = ["llava", "qwen3", "all-minilm", "llama3.2"]);
        using var client = SimulatorKit.Client(simulator);

        async Task<string[]> CapabilitiesAsync(string model)
        {
            using var response = await SimulatorKit.PostAsync(client, "/api/show", $$"""{"model":"{{model}}"}""");
            return [.. (await SimulatorKit.JsonAsync(response)).GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()!)];
        }

        (await CapabilitiesAsync("llava")).Should().Contain("vision");
        (await CapabilitiesAsync("qwen3")).Should().Contain("thinking");
        (await CapabilitiesAsync("all-minilm")).Should().Equal("embedding");
        (await CapabilitiesAsync("llama3.2")).Should().Equal("completion", "tools");
    }

    [Theory]
    [InlineData("LLAMA3.2")]
    [InlineData("llama3.2:latest")]
    [InlineData("registry.ollama.ai/library/llama3.2:latest")]
    [InlineData("library/llama3.2")]
    public async Task Show_AnySpellingOfTheName_FindsTheModel(string name)
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/show", $$"""{"name":"{{name}}"}""");

        ((int)response.StatusCode).Should().Be(200);
    }

    [Fact]
    public async Task Show_UnknownModel_Returns404WithTheNormalizedName()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/show", """{"model":"nope"}""");

        ((int)response.StatusCode).Should().Be(404);
        (await SimulatorKit.ErrorOfAsync(response)).Should().Be("model 'nope:latest' not found");
    }

    [Theory]
    [InlineData("/api/generate", """{"model":"nope","prompt":"hi"}""", 404, "model 'nope' not found")]
    [InlineData("/api/generate", """{"prompt":"hi"}""", 404, "model '' not found")]
    [InlineData("/api/chat", """{"messages":[]}""", 400, "model is required")]
    [InlineData("/api/chat", "", 400, "missing request body")]
    [InlineData("/api/embed", """{"model":"nope","input":"x"}""", 404, "model \"nope\" not found, try pulling it first")]
    [InlineData("/api/embeddings", """{"model":"nope","prompt":"x"}""", 404, "model \"nope\" not found, try pulling it first")]
    [InlineData("/api/embed", """{"model":"llama3.2","input":["a",1]}""", 400, "invalid input type")]
    [InlineData("/api/generate", """{"model":"llama3.2","prompt":"hi","keep_alive":"3600"}""", 400, "time: missing unit in duration \"3600\"")]
    [InlineData("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":"yes"}""", 400, "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool")]
    [InlineData("/api/create", """{"model":"mine"}""", 400, "neither 'from' or 'files' was specified")]
    [InlineData("/api/copy", """{"source":"nope","destination":"x"}""", 404, "model \"nope\" not found")]
    [InlineData("/api/pull", """{"model":"doesnotexist","stream":false}""", 500, "pull model manifest: file does not exist")]
    public async Task Post_InvalidRequest_ReturnsOllamasStatusAndText(string path, string body, int status, string error)
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, path, body);

        ((int)response.StatusCode).Should().Be(status);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await SimulatorKit.ErrorOfAsync(response)).Should().Be(error);
    }

    [Fact]
    public async Task Post_MalformedJson_Returns400()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/chat", "{bad");

        ((int)response.StatusCode).Should().Be(400);
        (await SimulatorKit.ErrorOfAsync(response)).Should().StartWith("invalid character 'b'");
    }

    [Fact]
    public async Task Router_UnknownPathAndWrongMethod_GetGinsPlainTextPages()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);

        using var missing = await client.GetAsync("/api/nothing");
        ((int)missing.StatusCode).Should().Be(404);
        missing.Content.Headers.ContentType!.ToString().Should().Be("text/plain");
        (await missing.Content.ReadAsStringAsync()).Should().Be("404 page not found");

        using var wrong = await client.GetAsync("/api/chat");
        ((int)wrong.StatusCode).Should().Be(405);
        (await wrong.Content.ReadAsStringAsync()).Should().Be("405 method not allowed");
    }

    [Fact]
    public async Task Pull_Streaming_ReportsProgressAndAddsTheModel()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.TokensPerSecond = 1000);
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/pull", """{"model":"mistral"}""");
        var lines = await SimulatorKit.LinesAsync(response);
        var statuses = lines.Select(l => l.GetProperty("status").GetString()).ToList();

        statuses[0].Should().Be("pulling manifest");
        statuses.TakeLast(3).Should().Equal("verifying sha256 digest", "writing manifest", "success");
        var layer = lines.First(l => l.TryGetProperty("digest", out _));
        var digest = layer.GetProperty("digest").GetString()!;
        layer.GetProperty("status").GetString().Should().Be("pulling " + digest[7..19]);
        lines.Where(l => l.TryGetProperty("completed", out var c) && c.GetInt64() == l.GetProperty("total").GetInt64()).Should().NotBeEmpty();
        (await TagNamesAsync(client)).Should().StartWith("mistral:latest");
    }

    [Fact]
    public async Task Pull_NonStreaming_ReturnsOnlySuccess()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/pull", """{"model":"qwen3:0.6b","stream":false}""");

        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"status":"success"}""");
        simulator.ModelNames.Should().Contain("qwen3:0.6b");
    }

    [Fact]
    public async Task Pull_UnknownOnRegistry_StreamsManifestThenError()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/pull", """{"model":"doesnotexist"}""");

        (await response.Content.ReadAsStringAsync()).Should().Be("{\"status\":\"pulling manifest\"}\n{\"error\":\"pull model manifest: file does not exist\"}\n");
    }

    [Fact]
    public async Task CopyAndDelete_ChangeTheLocalModels()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);

        using var copy = await SimulatorKit.PostAsync(client, "/api/copy", """{"source":"llama3.2","destination":"my-llama"}""");
        ((int)copy.StatusCode).Should().Be(200);
        (await copy.Content.ReadAsStringAsync()).Should().BeEmpty();
        (await TagNamesAsync(client)).Should().BeEquivalentTo("llama3.2:latest", "my-llama:latest");

        using var delete = await client.SendAsync(SimulatorKit.Request(HttpMethod.Delete, "/api/delete", """{"model":"llama3.2"}"""));
        ((int)delete.StatusCode).Should().Be(200);
        (await TagNamesAsync(client)).Should().Equal("my-llama:latest");

        using var again = await client.SendAsync(SimulatorKit.Request(HttpMethod.Delete, "/api/delete", """{"model":"llama3.2"}"""));
        ((int)again.StatusCode).Should().Be(404);
        (await SimulatorKit.ErrorOfAsync(again)).Should().Be("model 'llama3.2' not found");
    }

    [Fact]
    public async Task Push_KnownModel_StreamsOllamasStatuses()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/push", """{"model":"llama3.2"}""");
        var lines = await SimulatorKit.LinesAsync(response);

        lines[0].GetProperty("status").GetString().Should().Be("retrieving manifest");
        lines[1].GetProperty("status").GetString().Should().Be("starting upload");
        lines[1].GetProperty("total").GetInt64().Should().BePositive();
        lines.Select(l => l.GetProperty("status").GetString()).TakeLast(2).Should().Equal("pushing manifest", "success");
    }

    [Fact]
    public async Task BlobsAndCreate_UploadThenCreateFromFiles_AddsTheModel()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/blobs/" + digest)))
        {
            ((int)head.StatusCode).Should().Be(404);
        }

        async Task<HttpResponseMessage> UploadAsync(string to)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            return await client.PostAsync("/api/blobs/" + to, content);
        }

        var wrong = "sha256:" + new string('0', 64);
        using (var mismatch = await UploadAsync(wrong))
        {
            ((int)mismatch.StatusCode).Should().Be(400);
            (await SimulatorKit.ErrorOfAsync(mismatch)).Should().Be($"digest mismatch, expected \"{wrong}\", got \"{digest}\"");
        }

        using (var created = await UploadAsync(digest))
        {
            ((int)created.StatusCode).Should().Be(201);
        }

        var upload = simulator.Journal.Entries.Last(e => e.Method == "POST");
        upload.BodyLength.Should().Be(bytes.Length);
        upload.Body.Should().BeEmpty();

        using (var existing = await UploadAsync(digest))
        {
            ((int)existing.StatusCode).Should().Be(200);
        }

        using (var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/blobs/" + digest)))
        {
            ((int)head.StatusCode).Should().Be(200);
        }

        using (var bad = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/blobs/sha256:xyz")))
        {
            ((int)bad.StatusCode).Should().Be(400);
        }

        using var create = await SimulatorKit.PostAsync(client, "/api/create", $$"""{"model":"custom","files":{"model.gguf":"{{digest}}"},"stream":false}""");
        (await create.Content.ReadAsStringAsync()).Should().Be("""{"status":"success"}""");
        simulator.ModelNames.Should().Contain("custom:latest");
    }

    [Fact]
    public async Task Create_FromExistingModel_StreamsLayersAndSuccess()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/create", """{"model":"pirate","from":"llama3.2","system":"Talk like a pirate."}""");
        var statuses = (await SimulatorKit.LinesAsync(response)).Select(l => l.GetProperty("status").GetString()!).ToList();

        statuses.Should().Contain(s => s.StartsWith("using existing layer sha256:", StringComparison.Ordinal));
        statuses.Should().Contain(s => s.StartsWith("creating new layer sha256:", StringComparison.Ordinal));
        statuses.TakeLast(2).Should().Equal("writing manifest", "success");
        simulator.ModelNames.Should().Contain("pirate:latest");
    }

    [Fact]
    public async Task Embed_Inputs_GetDeterministicNormalizedVectors()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = ["all-minilm"]);
        using var client = SimulatorKit.Client(simulator);

        async Task<JsonElement> EmbedAsync(string body)
        {
            using var response = await SimulatorKit.PostAsync(client, "/api/embed", body);
            return await SimulatorKit.JsonAsync(response);
        }

        var batch = await EmbedAsync("""{"model":"all-minilm","input":["sky","sea"]}""");
        var vectors = batch.GetProperty("embeddings").EnumerateArray().Select(v => v.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToList();
        vectors.Should().HaveCount(2);
        vectors[0].Should().HaveCount(384);
        Math.Sqrt(vectors[0].Sum(x => x * x)).Should().BeApproximately(1, 1e-5);
        vectors[0].Should().NotEqual(vectors[1]);

        var single = await EmbedAsync("""{"model":"all-minilm","input":"sky"}""");
        single.GetProperty("embeddings")[0].GetRawText().Should().Be(batch.GetProperty("embeddings")[0].GetRawText());

        var truncated = await EmbedAsync("""{"model":"all-minilm","input":"sky","dimensions":8}""");
        truncated.GetProperty("embeddings")[0].GetArrayLength().Should().Be(8);

        var empty = await EmbedAsync("""{"model":"all-minilm","input":[]}""");
        empty.GetRawText().Should().Be("""{"model":"all-minilm","embeddings":[]}""");

        using var legacy = await SimulatorKit.PostAsync(client, "/api/embeddings", """{"model":"all-minilm","prompt":""}""");
        (await legacy.Content.ReadAsStringAsync()).Should().Be("""{"embedding":[]}""");
    }

    [Fact]
    public async Task Auth_RequiredBearerKey_RejectsRequestsWithoutIt()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.RequiredBearerKey = "sekret");
        using var client = SimulatorKit.Client(simulator);

        using var refused = await client.GetAsync("/api/tags");
        ((int)refused.StatusCode).Should().Be(401);
        (await refused.Content.ReadAsStringAsync()).Should().Be("""{"error":"unauthorized"}""");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sekret");
        using var allowed = await client.SendAsync(request);
        ((int)allowed.StatusCode).Should().Be(200);
        simulator.Journal.Entries[^1].Headers["authorization"].Should().Be("Bearer sekret");
    }

    [Theory]
    [InlineData("localhost:11434", 200)]
    [InlineData("127.0.0.1", 200)]
    [InlineData("192.168.1.20:11434", 200)]
    [InlineData("ollama.internal", 200)]
    [InlineData("evil.example.com", 403)]
    public async Task HostCheck_LoopbackBoundServer_AllowsOnlyLocalHosts(string host, int status)
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.LoopbackHostCheck = true);
        using var client = SimulatorKit.Client(simulator);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/version");
        request.Headers.Host = host;
        using var response = await client.SendAsync(request);

        ((int)response.StatusCode).Should().Be(status);
    }

    [Fact]
    public async Task Journal_Requests_AreRecordedWithBodyModelAndQuery()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate?x=1", """{"model":"llama3.2","prompt":"hi","stream":false}""");
        await response.Content.ReadAsStringAsync();

        var entry = await simulator.Journal.WaitForAsync(e => e.Path == "/api/generate", SimulatorKit.Deadline);
        entry.Method.Should().Be("POST");
        entry.QueryString.Should().Be("?x=1");
        entry.Model.Should().Be("llama3.2");
        entry.Headers["content-type"].Should().Be("application/json");
        System.Text.Encoding.UTF8.GetString(entry.Body).Should().Contain("\"prompt\":\"hi\"");
        await entry.Completed.WaitAsync(SimulatorKit.Deadline);

        simulator.Journal.Clear();
        simulator.Journal.Entries.Should().BeEmpty();
        var wait = () => simulator.Journal.WaitForAsync(e => e.Path == "/never", TimeSpan.FromMilliseconds(50));
        await wait.Should().ThrowAsync<TimeoutException>();
    }
}
