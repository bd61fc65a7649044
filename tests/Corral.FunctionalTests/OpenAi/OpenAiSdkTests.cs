using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Simulator;
using Corral.Simulator.Endpoints;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;

namespace Corral.FunctionalTests.OpenAi;

/// <summary>
/// The official OpenAI .NET SDK, unmodified, against Corral's <c>/v1</c> in front of two simulated Ollama
/// servers, all in-process on loopback sockets. Each test asserts what a user of the SDK sees.
/// </summary>
public sealed class OpenAiSdkTests : IAsyncLifetime
{
    private const string ChatModel = "llama3.2";

    private const string EmbeddingModel = "all-minilm";

    private SimulatedOllama? _first;

    private SimulatedOllama? _second;

    private CorralInstance? _corral;

    private CorralInstance Corral => _corral ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _first = await Sim.StartAsync("llama3.2", "all-minilm");
        _second = await Sim.StartAsync("llama3.2", "qwen3");
        _corral = await CorralInstance.StartAsync([CorralInstance.Backend(_first, "first"), CorralInstance.Backend(_second, "second")]);
    }

    public async Task DisposeAsync()
    {
        if (_corral is not null)
        {
            await _corral.DisposeAsync();
        }

        if (_second is not null)
        {
            await _second.DisposeAsync();
        }

        if (_first is not null)
        {
            await _first.DisposeAsync();
        }
    }

    [Fact]
    public async Task CompleteChat_KnownModel_ReturnsTextWithStopAndUsage()
    {
        var client = ChatClient();

        ChatCompletion completion = await client.CompleteChatAsync([new SystemChatMessage("You are terse."), new UserChatMessage("Why is the sky blue?")]);

        completion.Id.Should().StartWith("chatcmpl-");
        completion.Model.Should().StartWith("llama3.2");
        completion.Role.Should().Be(ChatMessageRole.Assistant);
        completion.FinishReason.Should().Be(ChatFinishReason.Stop);
        completion.Content.Should().ContainSingle();
        completion.Content[0].Text.Should().NotBeNullOrWhiteSpace();
        completion.ToolCalls.Should().BeEmpty();
        completion.CreatedAt.Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
        completion.Usage.InputTokenCount.Should().BePositive();
        completion.Usage.OutputTokenCount.Should().BePositive();
        completion.Usage.TotalTokenCount.Should().Be(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task CompleteChatStreaming_KnownModel_StreamsTextThenStopThenUsage()
    {
        var client = ChatClient();
        var updates = new List<StreamingChatCompletionUpdate>();

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Why is the sky blue?")]))
        {
            updates.Add(update);
        }

        var texts = updates.SelectMany(u => u.ContentUpdate).Select(part => part.Text).Where(text => !string.IsNullOrEmpty(text)).ToArray();
        texts.Should().HaveCountGreaterThanOrEqualTo(3, "the answer arrives in several deltas");
        string.Concat(texts).Should().NotBeNullOrWhiteSpace();
        updates.Select(u => u.CompletionId).Distinct().Should().ContainSingle().Which.Should().StartWith("chatcmpl-");
        updates[0].Role.Should().Be(ChatMessageRole.Assistant);

        // The SDK sends stream_options.include_usage=true by itself, so the stream ends with a usage chunk.
        updates.Where(u => u.FinishReason is not null).Should().ContainSingle()
            .Which.FinishReason.Should().Be(ChatFinishReason.Stop);
        updates[^2].FinishReason.Should().Be(ChatFinishReason.Stop, "the finish chunk comes right before the usage chunk");
        var usage = updates[^1].Usage;
        usage.Should().NotBeNull("the last chunk carries the usage");
        usage!.InputTokenCount.Should().BePositive();
        usage.OutputTokenCount.Should().BeGreaterThanOrEqualTo(texts.Length);
        usage.TotalTokenCount.Should().Be(usage.InputTokenCount + usage.OutputTokenCount);
        updates.SkipLast(1).Should().OnlyContain(u => u.Usage == null, "only the last chunk has usage");
    }

    [Fact]
    public async Task CompleteChat_WithTool_ReturnsToolCallWithJsonArguments()
    {
        var client = ChatClient();
        var options = new ChatCompletionOptions { Tools = { WeatherTool() } };

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("What is the weather in Paris?")], options);

        completion.FinishReason.Should().Be(ChatFinishReason.ToolCalls);
        var call = completion.ToolCalls.Should().ContainSingle().Subject;
        call.Id.Should().StartWith("call_");
        call.Kind.Should().Be(ChatToolCallKind.Function);
        call.FunctionName.Should().Be("get_weather");
        using var arguments = JsonDocument.Parse(call.FunctionArguments);
        arguments.RootElement.GetProperty("city").GetString().Should().Be("value");
        arguments.RootElement.EnumerateObject().Should().ContainSingle("only the required property is set");
    }

    [Fact]
    public async Task CompleteChatStreaming_WithTool_SendsWholeToolCallThenToolCallsFinish()
    {
        var client = ChatClient();
        var options = new ChatCompletionOptions { Tools = { WeatherTool() } };
        var updates = new List<StreamingChatCompletionUpdate>();

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("What is the weather in Paris?")], options))
        {
            updates.Add(update);
        }

        var call = updates.SelectMany(u => u.ToolCallUpdates).Should().ContainSingle("the tool call arrives whole in one delta").Subject;
        call.Index.Should().Be(0);
        call.ToolCallId.Should().StartWith("call_");
        call.FunctionName.Should().Be("get_weather");
        using var arguments = JsonDocument.Parse(call.FunctionArgumentsUpdate);
        arguments.RootElement.GetProperty("city").GetString().Should().Be("value");
        updates.Where(u => u.FinishReason is not null).Should().ContainSingle()
            .Which.FinishReason.Should().Be(ChatFinishReason.ToolCalls);
    }

    [Fact]
    public async Task GenerateEmbedding_KnownModel_Returns384UnitFloatsOfTheSimulator()
    {
        var client = new EmbeddingClient(EmbeddingModel, new ApiKeyCredential(CorralInstance.AdminKey), Options());

        // The SDK asks for encoding_format "base64" and decodes the little-endian floats itself.
        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("The sky is blue.");

        var vector = embedding.ToFloats().ToArray();
        vector.Should().HaveCount(384);
        Math.Sqrt(vector.Sum(x => (double)x * x)).Should().BeApproximately(1.0, 1e-4);
        vector.Should().Equal(EmbeddingEndpoints.Vector("The sky is blue.", 384), "the bytes of the simulator's float32 vector arrive unchanged");
    }

    [Fact]
    public async Task GenerateEmbeddings_SeveralInputs_ReturnsOneVectorPerInputInOrder()
    {
        var client = new EmbeddingClient(EmbeddingModel, new ApiKeyCredential(CorralInstance.AdminKey), Options());
        string[] inputs = ["The sky is blue.", "Grass is green."];

        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync(inputs);

        embeddings.Should().HaveCount(2);
        embeddings.Select(e => e.Index).Should().Equal(0, 1);
        embeddings[0].ToFloats().ToArray().Should().Equal(EmbeddingEndpoints.Vector(inputs[0], 384));
        embeddings[1].ToFloats().ToArray().Should().Equal(EmbeddingEndpoints.Vector(inputs[1], 384));
        embeddings.Usage.InputTokenCount.Should().BePositive();
        embeddings.Usage.TotalTokenCount.Should().Be(embeddings.Usage.InputTokenCount);
    }

    [Fact]
    public async Task GetModels_TwoBackends_ListsTheUnionOnce()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential(CorralInstance.AdminKey), Options());

        OpenAIModelCollection models = await client.GetModelsAsync();

        models.Select(m => m.Id).Should().BeEquivalentTo(["llama3.2:latest", "all-minilm:latest", "qwen3:latest"]);
        models.Should().OnlyContain(m => m.OwnedBy == "library");
        models.Should().OnlyContain(m => m.CreatedAt > DateTimeOffset.UnixEpoch);

        OpenAIModel model = await client.GetModelAsync("llama3.2:latest");
        model.Id.Should().Be("llama3.2:latest");
        model.OwnedBy.Should().Be("library");
    }

    [Fact]
    public async Task CompleteChat_UnknownModel_ThrowsClientResultException404()
    {
        var client = new ChatClient(model: "no-such-model", credential: new ApiKeyCredential(CorralInstance.AdminKey), options: Options());

        var act = () => client.CompleteChatAsync([new UserChatMessage("hi")]);

        var error = (await act.Should().ThrowAsync<ClientResultException>()).Which;
        error.Status.Should().Be(404);
        error.Message.Should().Contain("model 'no-such-model' not found");
        var envelope = ErrorEnvelope(error);
        envelope.GetProperty("type").GetString().Should().Be("not_found_error");
        envelope.GetProperty("message").GetString().Should().Be("model 'no-such-model' not found");
    }

    [Fact]
    public async Task CompleteChatStreaming_UnknownModel_ThrowsClientResultException404()
    {
        var client = new ChatClient(model: "no-such-model", credential: new ApiKeyCredential(CorralInstance.AdminKey), options: Options());

        var act = async () =>
        {
            await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
            {
            }
        };

        (await act.Should().ThrowAsync<ClientResultException>()).Which.Status.Should().Be(404);
    }

    [Fact]
    public async Task CompleteChatStreaming_BackendFailsMidStream_EndsWithoutFinishReason()
    {
        // qwen3 is only on the second backend. Corral ends the SSE stream with an OpenAI error frame; the
        // .NET SDK (2.10.0) does not raise it, so what a caller can see is the missing finish reason.
        _second!.Faults.ErrorAfterLines = 3;
        var client = new ChatClient(model: "qwen3", credential: new ApiKeyCredential(CorralInstance.AdminKey), options: Options());
        var updates = new List<StreamingChatCompletionUpdate>();

        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            updates.Add(update);
        }

        updates.Should().NotBeEmpty();
        updates.Should().OnlyContain(u => u.FinishReason == null, "a stream cut short must not claim to have finished");
        updates.Should().OnlyContain(u => u.Usage == null);
    }

    [Fact]
    public async Task CompleteChat_WrongKey_ThrowsClientResultException401()
    {
        var client = new ChatClient(model: ChatModel, credential: new ApiKeyCredential("not-a-corral-key-0123456789"), options: Options());

        var act = () => client.CompleteChatAsync([new UserChatMessage("hi")]);

        var error = (await act.Should().ThrowAsync<ClientResultException>()).Which;
        error.Status.Should().Be(401);
        var envelope = ErrorEnvelope(error);
        envelope.GetProperty("type").GetString().Should().Be("invalid_request_error");
        envelope.GetProperty("code").GetString().Should().Be("invalid_api_key");
    }

    /// <summary>Options as a user of the SDK writes them; no retries, so a 5xx fails the test instead of being retried.</summary>
    private OpenAIClientOptions Options() => new()
    {
        // The SDK appends "/chat/completions" etc. to this path whether or not it ends with a slash
        // (checked with OpenAI 2.10.0: ".../v1" and ".../v1/" both give "/v1/chat/completions").
        Endpoint = new Uri(Corral.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(60),
    };

    private ChatClient ChatClient() =>
        new(model: ChatModel, credential: new ApiKeyCredential(CorralInstance.AdminKey), options: Options());

    private static ChatTool WeatherTool() => ChatTool.CreateFunctionTool(
        functionName: "get_weather",
        functionDescription: "The current weather in a city",
        functionParameters: BinaryData.FromString("""
            {
              "type": "object",
              "properties": {
                "city": { "type": "string", "description": "The city" },
                "unit": { "type": "string", "enum": ["celsius", "fahrenheit"] }
              },
              "required": ["city"]
            }
            """));

    /// <summary>The <c>error</c> object of OpenAI's envelope in the failed response's body.</summary>
    private static JsonElement ErrorEnvelope(ClientResultException error)
    {
        var response = error.GetRawResponse();
        response.Should().NotBeNull();
        using var document = JsonDocument.Parse(response!.Content);
        var envelope = document.RootElement.GetProperty("error").Clone();
        envelope.GetProperty("param").ValueKind.Should().Be(JsonValueKind.Null);
        return envelope;
    }
}
