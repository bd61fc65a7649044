using System.Net;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.OpenAi;

/// <summary>The /v1 surface over simulated backends: streaming, tools, errors, prefixes, models.</summary>
public sealed class OpenAiSurfaceTests
{
    private static string[] Frames(string text) =>
        text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(f => f["data: ".Length..]).ToArray();

    private static JsonElement Json(string data)
    {
        using var document = JsonDocument.Parse(data);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task ChatStream_FirstFrameArrivesWhileTheBackendIsStillGenerating()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 10);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","stream":true,"max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""", HttpCompletionOption.ResponseHeadersRead);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();

        a.Received("/api/chat").Single().Completed.IsCompleted.Should().BeFalse("the first frame is sent before the generation ends");
        Json(first!["data: ".Length..]).GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString().Should().Be("assistant");
        var rest = await reader.ReadToEndAsync();
        rest.TrimEnd().Should().EndWith("data: [DONE]");
    }

    [Fact]
    public async Task ChatStream_IncludeUsageAndLength_FinishThenUsageThenDone()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":3,"messages":[{"role":"user","content":"hi"}]}""");
        var frames = Frames(await response.Content.ReadAsStringAsync());

        frames[^1].Should().Be("[DONE]");
        var usage = Json(frames[^2]);
        usage.GetProperty("choices").GetArrayLength().Should().Be(0);
        usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32().Should().Be(3);
        usage.GetProperty("usage").GetProperty("total_tokens").GetInt32().Should().Be(usage.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() + 3);
        Json(frames[^3]).GetProperty("choices")[0].GetProperty("finish_reason").GetString().Should().Be("length", "max_completion_tokens maps to num_predict");
        a.Received("/api/chat").Single().Body.Should().NotBeEmpty();
        Json(System.Text.Encoding.UTF8.GetString(a.Received("/api/chat").Single().Body)).GetProperty("options").GetProperty("num_predict").GetInt32().Should().Be(3);
        var ids = frames[..^1].Select(f => Json(f).GetProperty("id").GetString()).Distinct().ToArray();
        ids.Should().ContainSingle("one id for the whole stream").Which.Should().StartWith("chatcmpl-");
    }

    [Fact]
    public async Task Chat_Tools_ToolCallsWithJsonStringArguments_StreamedAndNot()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();
        const string tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""";

        using var plain = await client.PostJsonAsync("/v1/chat/completions", $$"""{"model":"llama3.2","tools":{{tools}},"messages":[{"role":"user","content":"weather in Paris?"}]}""");
        var choice = (await plain.JsonAsync()).GetProperty("choices")[0];
        choice.GetProperty("finish_reason").GetString().Should().Be("tool_calls");
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0];
        call.GetProperty("type").GetString().Should().Be("function");
        call.GetProperty("id").GetString().Should().StartWith("call_");
        call.GetProperty("function").GetProperty("name").GetString().Should().Be("get_weather");
        Json(call.GetProperty("function").GetProperty("arguments").GetString()!).GetProperty("city").GetString().Should().NotBeNullOrEmpty();

        using var streamed = await client.PostJsonAsync("/v1/chat/completions", $$"""{"model":"llama3.2","stream":true,"tools":{{tools}},"messages":[{"role":"user","content":"weather in Paris?"}]}""");
        var frames = Frames(await streamed.Content.ReadAsStringAsync());
        var withCalls = frames[..^1].Select(Json).Where(f => f.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out _)).ToArray();
        withCalls.Should().ContainSingle("tool calls arrive whole in one delta");
        Json(frames[^2]).GetProperty("choices")[0].GetProperty("finish_reason").GetString().Should().Be("tool_calls");

        var history = $$$"""{"model":"llama3.2","tools":{{{tools}}},"messages":[{"role":"user","content":"weather?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"}]}""";
        using var followUp = await client.PostJsonAsync("/v1/chat/completions", history);
        followUp.StatusCode.Should().Be(HttpStatusCode.OK);
        var sent = Json(System.Text.Encoding.UTF8.GetString(a.Received("/api/chat")[^1].Body)).GetProperty("messages");
        sent[1].GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetProperty("city").GetString().Should().Be("Paris");
        sent[2].GetProperty("tool_name").GetString().Should().Be("get_weather", "the tool name is found from the assistant's call with that id");
    }

    [Fact]
    public async Task ChatStream_Thinking_SentAsReasoningBeforeContent()
    {
        await using var a = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"qwen3","stream":true,"reasoning_effort":"high","messages":[{"role":"user","content":"think"}]}""");
        var deltas = Frames(await response.Content.ReadAsStringAsync())[..^1].Select(Json)
            .Where(f => f.GetProperty("choices").GetArrayLength() > 0)
            .Select(f => f.GetProperty("choices")[0].GetProperty("delta")).ToArray();

        var firstReasoning = Array.FindIndex(deltas, d => d.TryGetProperty("reasoning", out _));
        var firstContent = Array.FindIndex(deltas, d => d.TryGetProperty("content", out var c) && c.GetString()!.Length > 0);
        firstReasoning.Should().BeGreaterThanOrEqualTo(0);
        firstContent.Should().BeGreaterThan(firstReasoning);
        Json(System.Text.Encoding.UTF8.GetString(a.Received("/api/chat").Single().Body)).GetProperty("think").GetString().Should().Be("high");
    }

    [Fact]
    public async Task Stream_BackendErrorMidStream_EndsWithAnErrorFrameNotSilence()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        a.Faults.ErrorAfterLines = 2;
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","stream":true,"messages":[{"role":"user","content":"x"}]}""");
        var frames = Frames(await response.Content.ReadAsStringAsync());

        frames.Should().NotContain("[DONE]");
        var error = Json(frames[^1]).GetProperty("error");
        error.GetProperty("message").GetString().Should().Be("an error was encountered while running the model");
        error.GetProperty("type").GetString().Should().Be("api_error");
    }

    [Fact]
    public async Task Stream_BackendDiesMidStream_ErrorFrameNamesTheBackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        a.Faults.DieAfterLines = 2;
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "gpu-a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/completions", """{"model":"llama3.2","stream":true,"prompt":"x","max_tokens":10}""");
        var frames = Frames(await response.Content.ReadAsStringAsync());

        Json(frames[^1]).GetProperty("error").GetProperty("message").GetString().Should().Contain("backend 'gpu-a'");
    }

    [Fact]
    public async Task CompletionStream_IncludeUsage_ZeroedUsageOnChunksAndRealUsageLast()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/completions", """{"model":"llama3.2","stream":true,"stream_options":{"include_usage":true},"prompt":"x","max_tokens":4}""");
        var frames = Frames(await response.Content.ReadAsStringAsync());

        frames[^1].Should().Be("[DONE]");
        var chunks = frames[..^2].Select(Json).ToArray();
        chunks.Should().OnlyContain(c => c.GetProperty("object").GetString() == "text_completion" && c.GetProperty("usage").GetProperty("total_tokens").GetInt32() == 0);
        chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString().Should().Be("length");
        var last = Json(frames[^2]);
        last.GetProperty("choices").GetArrayLength().Should().Be(0);
        last.GetProperty("usage").GetProperty("completion_tokens").GetInt32().Should().Be(4);
        string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString())).Should().NotBeEmpty();
    }

    [Fact]
    public async Task Embeddings_FloatAndBase64_CarryTheSameVector()
    {
        await using var a = await Sim.StartAsync("all-minilm");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        var floats = await (await client.PostJsonAsync("/v1/embeddings", """{"model":"all-minilm","input":["a","b"]}""")).JsonAsync();
        var base64 = await (await client.PostJsonAsync("/v1/embeddings", """{"model":"all-minilm","input":["a","b"],"encoding_format":"BASE64"}""")).JsonAsync();

        floats.GetProperty("data").GetArrayLength().Should().Be(2);
        var vector = floats.GetProperty("data")[1].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var bytes = Convert.FromBase64String(base64.GetProperty("data")[1].GetProperty("embedding").GetString()!);
        var decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, i * 4)).ToArray();
        decoded.Should().Equal(vector);
        floats.GetProperty("model").GetString().Should().Be("all-minilm");
        floats.GetProperty("usage").GetProperty("prompt_tokens").GetInt32().Should().Be(floats.GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    public static TheoryData<string, string, string> InvalidRequests() => new()
    {
        { "/v1/embeddings", """{"model":"llama3.2","input":"x","encoding_format":"int8"}""", "Invalid value for 'encoding_format' = int8. Supported values: ['float', 'base64']." },
        { "/v1/embeddings", """{"model":"llama3.2","input":[]}""", "invalid input" },
        { "/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}""", "image URLs are not currently supported, please use base64 encoded data instead" },
        { "/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{not json"}}]}]}""", "invalid tool call arguments" },
        { "/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user"}]}""", "invalid message content type: <nil>" },
        { "/v1/chat/completions", """{"model":"llama3.2","reasoning_effort":"enormous","messages":[{"role":"user","content":"x"}]}""", "invalid reasoning value: 'enormous'" },
        { "/v1/completions", """{"model":"llama3.2","prompt":"x","stop":["a",1]}""", "invalid type for 'stop' field: float64" },
        { "/v1/chat/completions", """{"model":"llama3.2","messages":""", "invalid JSON in request body" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", "model is required" },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task InvalidRequest_400InOpenAiShape_BeforeAnyBackendCall(string path, string body, string message)
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync(path, body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = (await response.JsonAsync()).GetProperty("error");
        error.GetProperty("message").GetString().Should().StartWith(message);
        error.GetProperty("type").GetString().Should().Be("invalid_request_error");
        error.GetProperty("param").ValueKind.Should().Be(JsonValueKind.Null);
        a.Journal.Entries.Should().NotContain(e => e.Path == "/api/chat" || e.Path == "/api/generate" || e.Path == "/api/embed");
    }

    [Fact]
    public async Task Auth_MissingOrBadKey_401WithInvalidApiKeyCode()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);

        foreach (var key in new[] { null, "sk-nope" })
        {
            using var client = corral.Client(key);
            using var response = await client.GetAsync("/v1/models");
            response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            var error = (await response.JsonAsync()).GetProperty("error");
            error.GetProperty("code").GetString().Should().Be("invalid_api_key");
            error.GetProperty("type").GetString().Should().Be("invalid_request_error");
        }
    }

    [Fact]
    public async Task Models_ListAndRetrieve_WithPrefixesAndNamespaces()
    {
        await using var a = await Sim.StartAsync("llama3.2", "myuser/custom");
        await using var b = await Sim.StartAsync("gemma3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b", prefix: "gpu")]);
        using var client = corral.Client();

        var list = await (await client.GetAsync("/ollama/v1/models")).JsonAsync();
        list.GetProperty("object").GetString().Should().Be("list");
        var models = list.GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!, m => m.GetProperty("owned_by").GetString());
        models.Should().BeEquivalentTo(new Dictionary<string, string?> { ["llama3.2:latest"] = "library", ["myuser/custom:latest"] = "myuser", ["gpu.gemma3:latest"] = "library" });

        var one = await (await client.GetAsync("/v1/models/myuser/custom:latest")).JsonAsync();
        one.GetProperty("id").GetString().Should().Be("myuser/custom:latest");
        one.GetProperty("object").GetString().Should().Be("model");
        one.GetProperty("created").GetInt64().Should().BeGreaterThan(0);

        using var missing = await client.GetAsync("/v1/models/nothing");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await missing.JsonAsync()).GetProperty("error").GetProperty("type").GetString().Should().Be("not_found_error");

        using var chat = await client.PostJsonAsync("/v1/chat/completions", """{"model":"gpu.gemma3","messages":[{"role":"user","content":"hi"}]}""");
        (await chat.JsonAsync()).GetProperty("model").GetString().Should().Be("gpu.gemma3", "the answer names the model as the client knows it");
        b.Received("/api/chat").Single().Model.Should().Be("gemma3", "the prefix is stripped upstream");
    }

    [Fact]
    public async Task Models_EmptyFleet_DataIsAnEmptyListNotNull()
    {
        await using var a = await Sim.StartAsync(Array.Empty<string>());
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        var list = await (await client.GetAsync("/v1/models")).JsonAsync();

        list.GetProperty("data").ValueKind.Should().Be(JsonValueKind.Array);
        list.GetProperty("data").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task UnknownModel_404NotFoundErrorWithoutCallingTheBackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var chat = await client.PostJsonAsync("/v1/chat/completions", """{"model":"nope","messages":[{"role":"user","content":"x"}]}""");
        using var embed = await client.PostJsonAsync("/v1/embeddings", """{"model":"nope","input":"x"}""");

        chat.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await chat.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Be("model 'nope' not found");
        (await embed.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Be("model \"nope\" not found, try pulling it first");
        a.Journal.Entries.Should().NotContain(e => e.Path == "/api/chat" || e.Path == "/api/embed");
    }

    [Fact]
    public async Task BackendUnreachable_503InOpenAiShape()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();
        (await client.GetAsync("/v1/models")).EnsureSuccessStatusCode();
        await a.StopAsync();

        using var response = await client.PostJsonAsync("/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"x"}]}""");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "the refused connection took the only holder out");
        response.Headers.RetryAfter.Should().NotBeNull();
        var error = (await response.JsonAsync()).GetProperty("error");
        error.GetProperty("type").GetString().Should().Be("api_error");
        error.GetProperty("message").GetString().Should().Contain("backend 'a'").And.Contain("connection refused");
    }
}
