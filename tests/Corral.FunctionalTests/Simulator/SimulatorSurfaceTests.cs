using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

/// <summary>What a client of the simulator's compatible surfaces notices: usage that adds up, the right envelopes, the chat request honoured.</summary>
public sealed class SimulatorSurfaceTests
{
    private const string Messages = """
        {"model":"llama3.2","max_tokens":256,"system":"You are terse.","temperature":0.2,
         "messages":[{"role":"user","content":"Why is the sky blue?"}]}
        """;

    [Fact]
    public async Task Messages_SystemTemperatureMaxTokens_UsageCountsMatchTheStream()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);

        using var plain = await SimulatorKit.PostAsync(client, "/v1/messages", Messages);
        var message = await SimulatorKit.JsonAsync(plain);
        using var streamed = await SimulatorKit.PostAsync(client, "/v1/messages", Messages.Replace("\"max_tokens\"", "\"stream\":true,\"max_tokens\"", StringComparison.Ordinal));
        var events = ServerSentEvents.Parse(await streamed.Content.ReadAsStringAsync());

        var usage = message.GetProperty("usage");
        usage.GetProperty("input_tokens").GetInt32().Should().BePositive();
        message.GetProperty("stop_reason").GetString().Should().Be("end_turn", "max_tokens is a cap the short answer stays under");
        var deltas = events.Where(e => e.Event == "content_block_delta").Select(e => e.Data.GetProperty("delta").GetProperty("text").GetString()).ToList();
        var final = events.Single(e => e.Event == "message_delta").Data.GetProperty("usage");
        final.GetProperty("output_tokens").GetInt32().Should().Be(deltas.Count, "every streamed token is counted");
        string.Concat(deltas).Should().Be(message.GetProperty("content")[0].GetProperty("text").GetString());
        final.GetProperty("input_tokens").GetInt32().Should().Be(usage.GetProperty("input_tokens").GetInt32());
        final.GetProperty("output_tokens").GetInt32().Should().Be(usage.GetProperty("output_tokens").GetInt32());
        events[^1].Event.Should().Be("message_stop");
    }

    [Fact]
    public async Task Messages_SystemMessage_CountsTowardsInputTokens()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);

        using var with = await SimulatorKit.PostAsync(client, "/v1/messages", Messages);
        using var without = await SimulatorKit.PostAsync(client, "/v1/messages", Messages.Replace("\"system\":\"You are terse.\",", string.Empty, StringComparison.Ordinal));

        var withSystem = (await SimulatorKit.JsonAsync(with)).GetProperty("usage").GetProperty("input_tokens").GetInt32();
        var withoutSystem = (await SimulatorKit.JsonAsync(without)).GetProperty("usage").GetProperty("input_tokens").GetInt32();
        withSystem.Should().BeGreaterThan(withoutSystem, "the system prompt reaches the model as its first message");
    }

    [Fact]
    public async Task Messages_SmallMaxTokens_StopsWithMaxTokens()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/v1/messages", Messages.Replace("256", "3", StringComparison.Ordinal));

        var message = await SimulatorKit.JsonAsync(response);
        message.GetProperty("stop_reason").GetString().Should().Be("max_tokens");
        message.GetProperty("usage").GetProperty("output_tokens").GetInt32().Should().Be(3);
        message.GetProperty("content")[0].GetProperty("text").GetString().Should().Be("The sky is");
    }

    [Fact]
    public async Task Messages_UnknownModelStreamed_AnthropicEnvelope404()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/v1/messages", """{"model":"nope","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"hi"}]}""");

        ((int)response.StatusCode).Should().Be(404);
        response.Content.Headers.ContentType!.ToString().Should().Be("application/json");
        var body = await SimulatorKit.JsonAsync(response);
        body.GetProperty("type").GetString().Should().Be("error");
        body.GetProperty("error").GetProperty("type").GetString().Should().Be("not_found_error");
        body.GetProperty("error").GetProperty("message").GetString().Should().Be("model 'nope' not found");
        body.GetProperty("request_id").GetString().Should().StartWith("req_");
    }

    [Fact]
    public async Task Messages_NoMessages_400InTheAnthropicEnvelope()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/v1/messages", """{"model":"llama3.2","max_tokens":8,"messages":[]}""");

        ((int)response.StatusCode).Should().Be(400);
        var body = await SimulatorKit.JsonAsync(response);
        body.GetProperty("error").GetProperty("type").GetString().Should().Be("invalid_request_error");
        body.GetProperty("error").GetProperty("message").GetString().Should().Be("messages is required");
    }

    [Fact]
    public async Task Responses_Streamed_CompletedCarriesUsageAndSequenceNumbersCount()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/v1/responses", """{"model":"llama3.2","input":"Why is the sky blue?","instructions":"Be brief.","stream":true}""");

        var events = ServerSentEvents.Parse(await response.Content.ReadAsStringAsync());
        events.Select(e => e.Data.GetProperty("sequence_number").GetInt32()).Should().Equal(Enumerable.Range(0, events.Count));
        events.Should().OnlyContain(e => e.Data.GetProperty("type").GetString() == e.Event);
        var completed = events[^1];
        completed.Event.Should().Be("response.completed");
        var usage = completed.Data.GetProperty("response").GetProperty("usage");
        var deltas = events.Count(e => e.Event == "response.output_text.delta");
        usage.GetProperty("output_tokens").GetInt32().Should().Be(deltas);
        usage.GetProperty("input_tokens").GetInt32().Should().BePositive();
        usage.GetProperty("total_tokens").GetInt32().Should().Be(usage.GetProperty("input_tokens").GetInt32() + deltas);
        completed.Data.GetProperty("response").GetProperty("instructions").GetString().Should().Be("Be brief.");
    }

    [Fact]
    public async Task Responses_MaxOutputTokens_AnswersThatManyTokens()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/v1/responses", """{"model":"llama3.2","input":"hi","max_output_tokens":4}""");

        var body = await SimulatorKit.JsonAsync(response);
        body.GetProperty("usage").GetProperty("output_tokens").GetInt32().Should().Be(4);
        body.GetProperty("max_output_tokens").GetInt32().Should().Be(4);
        body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString().Should().Be("The sky is blue");
    }

    [Fact]
    public async Task Responses_UnknownModel_OpenAiEnvelope404()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/v1/responses", """{"model":"nope","input":"hi","stream":true}""");

        ((int)response.StatusCode).Should().Be(404);
        var error = (await SimulatorKit.JsonAsync(response)).GetProperty("error");
        error.GetProperty("type").GetString().Should().Be("not_found_error");
        error.GetProperty("message").GetString().Should().Be("model 'nope' not found");
        error.GetProperty("code").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task Responses_ErrorAfterLines_StreamEndsWithoutCompleted()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        simulator.Faults.ErrorAfterLines = 3;
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/v1/responses", """{"model":"llama3.2","input":"hi","stream":true}""");

        var events = ServerSentEvents.Parse(await response.Content.ReadAsStringAsync());
        events.Count(e => e.Event == "response.output_text.delta").Should().Be(3);
        events.Should().NotContain(e => e.Event == "response.completed", "Ollama's writer turns the error line into no event");
    }

    [Fact]
    public async Task Transcription_Multipart_AnswersTheTextAndJournalsTheForm()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = ["whisper-ish"]);
        using var client = SimulatorKit.Client(simulator);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("whisper-ish"), "model" },
            { new ByteArrayContent([1, 2, 3, 4]), "file", "a.wav" },
        };
        using var response = await client.PostAsync(new Uri("/v1/audio/transcriptions", UriKind.Relative), form);

        var body = await SimulatorKit.JsonAsync(response);
        body.GetProperty("text").GetString().Should().Be("The sky is blue because air scatters blue sunlight the most.");
        var entry = simulator.Journal.Entries.Should().ContainSingle().Subject;
        entry.Model.Should().Be("whisper-ish");
        entry.Headers["Content-Type"].Should().StartWith("multipart/form-data; boundary=");
        System.Text.Encoding.UTF8.GetString(entry.Body).Should().Contain("name=model").And.Contain("filename=a.wav");
    }

    [Fact]
    public async Task Transcription_EmptyFile_400()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var form = new MultipartFormDataContent
        {
            { new StringContent("llama3.2"), "model" },
            { new ByteArrayContent([]), "file", "a.wav" },
        };
        using var response = await client.PostAsync(new Uri("/v1/audio/transcriptions", UriKind.Relative), form);

        ((int)response.StatusCode).Should().Be(400);
        (await SimulatorKit.JsonAsync(response)).GetProperty("error").GetProperty("message").GetString().Should().Be("audio file is empty");
    }
}
