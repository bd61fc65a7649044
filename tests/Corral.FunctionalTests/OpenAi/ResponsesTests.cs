using System.Net;
using System.Text;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;
using Corral.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.OpenAi;

/// <summary>
/// OpenAI's Responses API through Corral: routed by model like chat, passed to the backend's own
/// <c>/v1/responses</c>, errors in OpenAI's envelope, presets said in Responses' words.
/// </summary>
public sealed class ResponsesTests
{
    private const string Ask = """{"model":"llama3.2","instructions":"Be brief.","input":"Why is the sky blue?"}""";

    private const string SupportBot = """
        {"name":"support-bot","model":"llama3.2","system":"You answer questions about Corral.","options":{"temperature":0.2,"num_predict":99,"num_ctx":8192},"think":false,
         "format":{"type":"object","properties":{"answer":{"type":"string"}}}}
        """;

    private static Task<CorralInstance> StartAsync(SimulatedOllama simulator, RecordedUsage? usage = null, params string[] presets)
    {
        var parsed = TestPresets.Parse(presets);
        return CorralInstance.StartAsync(
            [CorralInstance.Backend(simulator, "a")],
            s => s with { Presets = parsed },
            services: usage is null ? null : s => s.AddSingleton<IUsageObserver>(usage));
    }

    private static JsonElement Json(byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Responses_PlainModel_BodyReachesTheBackendUnchanged_UsageRecordedFromTheBody()
    {
        var usage = new RecordedUsage();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, usage);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/responses", Ask);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var answer = await response.JsonAsync();
        answer.GetProperty("object").GetString().Should().Be("response");
        answer.GetProperty("model").GetString().Should().Be("llama3.2");
        Encoding.UTF8.GetString(a.Received("/v1/responses").Single().Body).Should().Be(Ask);
        var record = await usage.SingleAsync("/v1/responses");
        record.PromptTokens.Should().Be(answer.GetProperty("usage").GetProperty("input_tokens").GetInt32()).And.BeGreaterThan(0);
        record.CompletionTokens.Should().Be(answer.GetProperty("usage").GetProperty("output_tokens").GetInt32()).And.BeGreaterThan(0);
    }

    [Fact]
    public async Task Responses_Preset_RunsOnTheBaseWithItsSettingsInResponsesWords_StreamNamesThePreset()
    {
        var usage = new RecordedUsage();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, usage, SupportBot);
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/v1/responses", """
            {"model":"support-bot","instructions":"Be brief.","input":"Why is the sky blue?","stream":true,"temperature":0.9,"top_p":0.5,"reasoning":{"effort":"high","summary":"auto"}}
            """);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var sent = Json(a.Received("/v1/responses").Single().Body);
        sent.GetProperty("model").GetString().Should().Be("llama3.2");
        sent.GetProperty("instructions").GetString().Should().Be("You answer questions about Corral.\n\nBe brief.");
        sent.GetProperty("temperature").GetDouble().Should().Be(0.2, "the preset's options win");
        sent.GetProperty("top_p").GetDouble().Should().Be(0.5, "the client's settings the preset does not set stay");
        sent.GetProperty("max_output_tokens").GetInt32().Should().Be(99, "num_predict is Responses' max_output_tokens");
        sent.GetProperty("reasoning").GetProperty("effort").GetString().Should().Be("none", "think false is effort none");
        sent.GetProperty("reasoning").GetProperty("summary").GetString().Should().Be("auto");
        var format = sent.GetProperty("text").GetProperty("format");
        format.GetProperty("type").GetString().Should().Be("json_schema");
        format.GetProperty("schema").GetProperty("properties").TryGetProperty("answer", out _).Should().BeTrue();

        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var events = ServerSentEvents.Parse(await response.Content.ReadAsStringAsync());
        events[0].Event.Should().Be("response.created");
        events[0].Data.GetProperty("response").GetProperty("model").GetString().Should().Be("support-bot");
        events[^1].Event.Should().Be("response.completed");
        var completed = events[^1].Data.GetProperty("response");
        completed.GetProperty("model").GetString().Should().Be("support-bot");
        events.Count(e => e.Event == "response.output_text.delta").Should().BeGreaterThan(2, "the answer streams");
        var record = await usage.SingleAsync("/v1/responses");
        record.Model.Should().Be("support-bot");
        record.ResolvedModel.Should().Be("llama3.2:latest");
        record.PromptTokens.Should().Be(completed.GetProperty("usage").GetProperty("input_tokens").GetInt32()).And.BeGreaterThan(0);
        record.CompletionTokens.Should().Be(completed.GetProperty("usage").GetProperty("output_tokens").GetInt32()).And.BeGreaterThan(0);
    }

    [Fact]
    public async Task Responses_UnknownModelOrNoModel_OpenAiErrorsWithoutCallingABackend()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a);
        using var client = corral.Client();

        using var unknown = await client.PostJsonAsync("/v1/responses", """{"model":"gpt-5","input":"hi"}""");
        using var noModel = await client.PostJsonAsync("/ollama/v1/responses", """{"input":"hi"}""");
        using var notJson = await client.PostJsonAsync("/v1/responses", "hi");

        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Be("model 'gpt-5' not found");
        noModel.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noModel.JsonAsync()).GetProperty("error").GetProperty("type").GetString().Should().Be("invalid_request_error");
        notJson.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await notJson.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().NotBeNullOrEmpty();
        a.Received("/v1/responses").Should().BeEmpty();
    }

    [Fact]
    public async Task Responses_GetMethod_Is405WithAllow()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a);
        using var client = corral.Client();

        using var response = await client.GetAsync("/v1/responses");

        response.StatusCode.Should().Be(HttpStatusCode.MethodNotAllowed);
        response.Content.Headers.Allow.Should().Equal("POST");
    }

    [Fact]
    public async Task Responses_ZstdBody_AsCodexSendsIt_IsReadAndSentPlain()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a);
        using var client = corral.Client();
        using var compressor = new ZstdSharp.Compressor();
        var content = new ByteArrayContent(compressor.Wrap(Encoding.UTF8.GetBytes(Ask)).ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.ContentEncoding.Add("zstd");
        var unknown = new ByteArrayContent([1, 2, 3]);
        unknown.Headers.ContentEncoding.Add("compress");

        using var response = await client.PostAsync("/v1/responses", content);
        using var refused = await client.PostAsync("/v1/responses", unknown);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var received = a.Received("/v1/responses").Single();
        Encoding.UTF8.GetString(received.Body).Should().Be(Ask, "the backend gets the body decompressed");
        received.Headers.Keys.Should().NotContain(k => k.Equals("Content-Encoding", StringComparison.OrdinalIgnoreCase));
        refused.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await refused.JsonAsync()).GetProperty("error").GetProperty("message").GetString().Should().Contain("'compress' is not supported");
    }
}
