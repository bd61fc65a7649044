using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;
using Corral.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Anthropic;

/// <summary>
/// Anthropic's Messages API through Corral: routed by model like chat, passed to the backend's own
/// <c>/v1/messages</c>, with Anthropic's key header and error shape, and presets said in Messages' words.
/// </summary>
public sealed class MessagesTests
{
    private const string Ask = """{"model":"llama3.2","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"Why is the sky blue?"}]}""";

    private const string SupportBot = """
        {"name":"support-bot","model":"llama3.2","system":"You answer questions about Corral.","options":{"temperature":0.2,"top_k":20,"num_predict":99,"stop":"END","num_ctx":8192},"think":"high"}
        """;

    private static Task<CorralInstance> StartAsync(SimulatedOllama[] simulators, RecordedUsage? usage = null, string? prefix = null, params string[] presets)
    {
        var parsed = TestPresets.Parse(presets);
        return CorralInstance.StartAsync(
            [.. simulators.Select((s, i) => CorralInstance.Backend(s, "b" + i, prefix: prefix))],
            s => s with { Presets = parsed },
            services: usage is null ? null : s => s.AddSingleton<IUsageObserver>(usage));
    }

    private static HttpClient AnthropicClient(CorralInstance corral, string key = CorralInstance.AdminKey)
    {
        var client = corral.Client(key: null);
        client.DefaultRequestHeaders.Add("x-api-key", key);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return client;
    }

    private static JsonElement Json(byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        return document.RootElement.Clone();
    }

    private static async Task AssertAnthropicErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        var body = await response.JsonAsync();
        body.GetProperty("type").GetString().Should().Be("error");
        body.GetProperty("error").GetProperty("type").GetString().Should().Be(type);
        body.GetProperty("error").GetProperty("message").GetString().Should().NotBeNullOrEmpty();
        body.GetProperty("request_id").GetString().Should().StartWith("req_");
    }

    [Fact]
    public async Task Messages_PlainModel_BodyReachesTheBackendUnchanged_AnswerIsTheBackends()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        using var client = AnthropicClient(corral);

        using var response = await client.PostJsonAsync("/v1/messages", Ask);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var message = await response.JsonAsync();
        message.GetProperty("type").GetString().Should().Be("message");
        message.GetProperty("model").GetString().Should().Be("llama3.2");
        message.GetProperty("content")[0].GetProperty("text").GetString().Should().NotBeNullOrWhiteSpace();
        var received = a.Received("/v1/messages").Single();
        Encoding.UTF8.GetString(received.Body).Should().Be(Ask, "nothing in the body needs changing");
        received.Headers.Keys.Should().NotContain(k => k.Equals("x-api-key", StringComparison.OrdinalIgnoreCase) || k.Equals("Authorization", StringComparison.OrdinalIgnoreCase), "the client's key stays with Corral");
    }

    [Fact]
    public async Task Messages_Preset_RunsOnTheBaseWithItsSettingsInMessagesWords_AnswersNameThePreset()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a], presets: SupportBot);
        using var client = AnthropicClient(corral);

        using var plain = await client.PostJsonAsync("/v1/messages", Ask.Replace("\"llama3.2\"", "\"support-bot\"", StringComparison.Ordinal).Replace("\"max_tokens\":64", "\"max_tokens\":64,\"temperature\":0.9,\"top_p\":0.5", StringComparison.Ordinal));
        using var streamed = await client.PostJsonAsync("/v1/messages", """{"model":"support-bot","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        plain.StatusCode.Should().Be(HttpStatusCode.OK, await plain.Content.ReadAsStringAsync());
        (await plain.JsonAsync()).GetProperty("model").GetString().Should().Be("support-bot");
        var sent = Json(a.Received("/v1/messages")[0].Body);
        sent.GetProperty("model").GetString().Should().Be("llama3.2");
        sent.GetProperty("system").GetString().Should().Be("You answer questions about Corral.\n\nBe brief.", "the preset's system prompt comes first");
        sent.GetProperty("temperature").GetDouble().Should().Be(0.2, "the preset's options win");
        sent.GetProperty("top_p").GetDouble().Should().Be(0.5, "the client's settings the preset does not set stay");
        sent.GetProperty("top_k").GetInt32().Should().Be(20);
        sent.GetProperty("max_tokens").GetInt32().Should().Be(99, "num_predict is Messages' max_tokens");
        sent.GetProperty("stop_sequences").EnumerateArray().Select(s => s.GetString()).Should().Equal("END");
        sent.GetProperty("output_config").GetProperty("effort").GetString().Should().Be("high", "a think level is Messages' effort");
        sent.TryGetProperty("num_ctx", out _).Should().BeFalse("Messages has no field for num_ctx");

        streamed.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var events = ServerSentEvents.Parse(await streamed.Content.ReadAsStringAsync());
        events[0].Event.Should().Be("message_start");
        events[0].Data.GetProperty("message").GetProperty("model").GetString().Should().Be("support-bot", "the stream names the preset too");
        events[^1].Event.Should().Be("message_stop");
        var second = Json(a.Received("/v1/messages")[1].Body);
        second.GetProperty("system").GetString().Should().Be("You answer questions about Corral.", "without a system of the client's, the preset's is the system");
    }

    [Fact]
    public async Task Messages_SystemAsBlocks_PresetPromptIsTheFirstBlock()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a], presets: SupportBot);
        using var client = AnthropicClient(corral);

        using var response = await client.PostJsonAsync("/v1/messages", """
            {"model":"support-bot","max_tokens":16,"system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":"hi"}]}
            """);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var system = Json(a.Received("/v1/messages").Single().Body).GetProperty("system");
        system.EnumerateArray().Select(b => b.GetProperty("text").GetString()).Should().Equal("You answer questions about Corral.\n\n", "Be brief.");
    }

    [Fact]
    public async Task Messages_Stream_IsRelayedEventByEvent_UsageRecordedFromMessageDelta()
    {
        var usage = new RecordedUsage();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a], usage);
        using var client = AnthropicClient(corral);

        using var response = await client.PostJsonAsync("/v1/messages", """{"model":"llama3.2","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Why is the sky blue?"}]}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var events = ServerSentEvents.Parse(await response.Content.ReadAsStringAsync());
        events.Select(e => e.Event).Should().StartWith(["message_start", "content_block_start"]).And.EndWith(["message_delta", "message_stop"]);
        events.Count(e => e.Event == "content_block_delta").Should().BeGreaterThan(2, "the answer streams");
        var delta = events.Single(e => e.Event == "message_delta").Data.GetProperty("usage");
        var record = await usage.SingleAsync("/v1/messages");
        record.Model.Should().Be("llama3.2");
        record.Status.Should().Be(200);
        record.PromptTokens.Should().Be(delta.GetProperty("input_tokens").GetInt32()).And.BeGreaterThan(0);
        record.CompletionTokens.Should().Be(delta.GetProperty("output_tokens").GetInt32()).And.BeGreaterThan(0);
    }

    [Fact]
    public async Task Messages_Keys_XApiKeyOrBearerAccepted_WrongOrMissingKeyIsAnthropicsAuthenticationError()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        using var bearer = corral.Client();
        using var wrong = AnthropicClient(corral, "not-a-corral-key-0123456789");
        using var none = corral.Client(key: null);

        using var withBearer = await bearer.PostJsonAsync("/v1/messages", Ask);
        using var withWrong = await wrong.PostJsonAsync("/v1/messages", Ask);
        using var withNone = await none.PostJsonAsync("/v1/messages", Ask);

        withBearer.StatusCode.Should().Be(HttpStatusCode.OK);
        await AssertAnthropicErrorAsync(withWrong, HttpStatusCode.Unauthorized, "authentication_error");
        await AssertAnthropicErrorAsync(withNone, HttpStatusCode.Unauthorized, "authentication_error");
        a.Received("/v1/messages").Should().ContainSingle("refused requests reach no backend");
    }

    [Fact]
    public async Task Messages_XApiKey_IsNotTakenOnOtherRoutes()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        using var client = AnthropicClient(corral);

        using var chat = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""");

        chat.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "x-api-key is Anthropic's header, taken on /v1/messages only");
    }

    [Fact]
    public async Task Messages_UnknownModelOrBadBody_AnthropicErrorsWithoutCallingABackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        using var client = AnthropicClient(corral);

        using var unknown = await client.PostJsonAsync("/v1/messages", """{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");
        using var broken = await client.PostJsonAsync("/v1/messages", """{"model":"llama3.2",""");
        using var noModel = await client.PostJsonAsync("/v1/messages", """{"max_tokens":16,"messages":[]}""");
        using var underOllama = await client.PostJsonAsync("/ollama/v1/messages", """{"model":"nope","max_tokens":16,"messages":[]}""");
        using var array = await client.PostJsonAsync("/v1/messages", "[]");
        using var numberModel = await client.PostJsonAsync("/v1/messages", """{"model":5,"max_tokens":16,"messages":[]}""");
        using var empty = await client.PostJsonAsync("/v1/messages", "");

        await AssertAnthropicErrorAsync(unknown, HttpStatusCode.NotFound, "not_found_error");
        (await unknown.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Be("model 'claude-sonnet-4-5' not found");
        await AssertAnthropicErrorAsync(broken, HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertAnthropicErrorAsync(noModel, HttpStatusCode.BadRequest, "invalid_request_error");
        (await noModel.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Be("model is required");
        await AssertAnthropicErrorAsync(underOllama, HttpStatusCode.NotFound, "not_found_error");
        await AssertAnthropicErrorAsync(array, HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertAnthropicErrorAsync(numberModel, HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertAnthropicErrorAsync(empty, HttpStatusCode.BadRequest, "invalid_request_error");
        a.Received("/v1/messages").Should().BeEmpty();
    }

    [Fact]
    public async Task Messages_BackendError_PassesThroughInAnthropicsShape()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        using var client = AnthropicClient(corral);

        // Ollama's own validation: Corral routes by model and leaves the rest to the backend.
        using var response = await client.PostJsonAsync("/v1/messages", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""");

        await AssertAnthropicErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        a.Received("/v1/messages").Should().ContainSingle();
    }

    [Fact]
    public async Task Messages_AllowList_MatchesPresetAndBaseSeparately()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a], presets: SupportBot);
        var (_, presetOnly) = await corral.CreateKeyFromAsync("""{"name":"bot","role":"user","models":["support-bot"]}""");
        using var client = AnthropicClient(corral, presetOnly);

        using var preset = await client.PostJsonAsync("/v1/messages", """{"model":"support-bot","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""");
        using var baseModel = await client.PostJsonAsync("/v1/messages", Ask);

        preset.StatusCode.Should().Be(HttpStatusCode.OK);
        await AssertAnthropicErrorAsync(baseModel, HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task Messages_RateLimitedKey_IsAnthropicsRateLimitErrorWithRetryAfter()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        var (_, limited) = await corral.CreateKeyFromAsync("""{"name":"slow","role":"user","requestsPerMinute":1}""");
        using var client = AnthropicClient(corral, limited);

        using var first = await client.PostJsonAsync("/v1/messages", Ask);
        using var second = await client.PostJsonAsync("/v1/messages", Ask);

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        first.Headers.GetValues("anthropic-ratelimit-requests-limit").Single().Should().Be("1");
        first.Headers.GetValues("anthropic-ratelimit-requests-remaining").Single().Should().Be("0");
        DateTimeOffset.Parse(first.Headers.GetValues("anthropic-ratelimit-requests-reset").Single(), System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeCloseTo(DateTimeOffset.UtcNow.AddMinutes(1), TimeSpan.FromSeconds(65), "the window resets within the minute, written as a time");
        first.Headers.Contains("x-ratelimit-limit-requests").Should().BeFalse("OpenAI's headers are for /v1's OpenAI routes");
        await AssertAnthropicErrorAsync(second, HttpStatusCode.TooManyRequests, "rate_limit_error");
        second.Headers.RetryAfter.Should().NotBeNull();
    }

    [Fact]
    public async Task Messages_OtherMethodOrPathBelow_AnthropicErrors()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        using var client = AnthropicClient(corral);

        using var get = await client.GetAsync("/v1/messages");
        using var countTokens = await client.PostJsonAsync("/v1/messages/count_tokens", Ask);

        await AssertAnthropicErrorAsync(get, HttpStatusCode.MethodNotAllowed, "invalid_request_error");
        get.Content.Headers.Allow.Should().Equal("POST");
        await AssertAnthropicErrorAsync(countTokens, HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task Messages_FirstBackendRefuses_FailsOverBeforeTheFirstByte()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a, b]);
        a.Faults.RefuseConnections = true;
        b.Faults.RefuseConnections = false;
        using var client = AnthropicClient(corral);

        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostJsonAsync("/v1/messages", Ask);
            response.StatusCode.Should().Be(HttpStatusCode.OK, "a refused connection is tried on the other backend");
            response.Backend().Should().Be("b1");
        }
    }

    [Fact]
    public async Task Messages_PrefixedBackend_IsSentItsOwnName_AnswerKeepsTheClients()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a], prefix: "gpu1");
        using var client = AnthropicClient(corral);

        using var response = await client.PostJsonAsync("/v1/messages", Ask.Replace("\"llama3.2\"", "\"gpu1.llama3.2\"", StringComparison.Ordinal));

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        (await response.JsonAsync()).GetProperty("model").GetString().Should().Be("gpu1.llama3.2");
        Json(a.Received("/v1/messages").Single().Body).GetProperty("model").GetString().Should().Be("llama3.2");
    }

    [Fact]
    public async Task Messages_BackendDiesMidStream_StreamEndsWithAnthropicErrorEvent()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync([a]);
        a.Faults.DieAfterLines = 3;
        using var client = AnthropicClient(corral);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = new StringContent("""{"model":"llama3.2","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Why is the sky blue?"}]}""", new MediaTypeHeaderValue("application/json")),
        };

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        var events = ServerSentEvents.Parse(text);
        events[0].Event.Should().Be("message_start");
        events[^1].Event.Should().Be("error");
        events[^1].Data.GetProperty("error").GetProperty("type").GetString().Should().Be("api_error");
        events.Should().NotContain(e => e.Event == "message_stop");
    }
}
