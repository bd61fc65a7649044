using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

public sealed class SimulatorStreamingTests
{
    private const string Generate = """{"model":"llama3.2","prompt":"Why is the sky blue?"}""";

    [Fact]
    public async Task Generate_Streaming_LinesArriveWhileGenerationIsStillGoing()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.TokensPerSecond = 8);
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", Generate);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        var entry = simulator.Journal.Entries.Should().ContainSingle().Subject;

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = JsonDocument.Parse((await reader.ReadLineAsync())!).RootElement;
        entry.Completed.IsCompleted.Should().BeFalse("the first line is flushed long before the answer is finished");
        first.GetProperty("response").GetString().Should().Be("The");

        var rest = new List<JsonElement>();
        while (await reader.ReadLineAsync() is { } line)
        {
            rest.Add(JsonDocument.Parse(line).RootElement);
        }

        rest.Should().HaveCount(12);
        var last = rest[^1];
        last.GetProperty("done").GetBoolean().Should().BeTrue();
        last.GetProperty("done_reason").GetString().Should().Be("stop");
        last.GetProperty("eval_count").GetInt32().Should().Be(12);
        last.GetProperty("response").GetString().Should().BeEmpty();

        // The server's own clock: 11 more tokens at 8/s, due 125 ms apart (at most one interval of timer slack).
        var spread = CreatedAt(rest[^2]) - CreatedAt(first);
        spread.Should().BeGreaterThan(TimeSpan.FromMilliseconds(1200));
    }

    private static DateTimeOffset CreatedAt(JsonElement line) =>
        DateTimeOffset.Parse(line.GetProperty("created_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Generate_NumPredict_StopsWithLength()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","options":{"num_predict":3}}""");
        var lines = await SimulatorKit.LinesAsync(response);

        lines.Should().HaveCount(4);
        string.Concat(lines.Take(3).Select(l => l.GetProperty("response").GetString())).Should().Be("The sky is");
        lines[^1].GetProperty("done_reason").GetString().Should().Be("length");
        lines[^1].GetProperty("eval_count").GetInt32().Should().Be(3);
    }

    [Fact]
    public async Task Generate_NumPredictBeyondTheAnswer_KeepsGoingUntilLength()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":40}}""");
        var body = await SimulatorKit.JsonAsync(response);

        body.GetProperty("done_reason").GetString().Should().Be("length");
        body.GetProperty("eval_count").GetInt32().Should().Be(40);
        body.GetProperty("response").GetString().Should().StartWith("The sky is blue because air scatters blue sunlight the most. Shorter");
    }

    [Fact]
    public async Task Chat_NonStreaming_ReturnsOneObjectWithTheWholeAnswer()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""");

        response.Content.Headers.ContentType!.ToString().Should().Be("application/json; charset=utf-8");
        var body = await SimulatorKit.JsonAsync(response);
        body.GetProperty("message").GetProperty("content").GetString().Should().Be("The sky is blue because air scatters blue sunlight the most.");
        body.GetProperty("done_reason").GetString().Should().Be("stop");
        body.TryGetProperty("context", out _).Should().BeFalse();
        body.GetProperty("load_duration").GetInt64().Should().BePositive();
    }

    [Fact]
    public async Task Chat_ThinkingModel_StreamsThinkingBeforeContent()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = ["qwen3"]);
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/chat", """{"model":"qwen3","messages":[{"role":"user","content":"hi"}]}""");
        var lines = await SimulatorKit.LinesAsync(response);

        var messages = lines.Select(l => l.GetProperty("message")).ToList();
        messages[0].GetProperty("thinking").GetString().Should().Be("Okay");
        messages[0].GetProperty("content").GetString().Should().BeEmpty();
        var firstContent = messages.FindIndex(m => m.GetProperty("content").GetString() != string.Empty);
        firstContent.Should().BePositive();
        messages.Skip(firstContent).Where(m => m.TryGetProperty("thinking", out _)).Should().BeEmpty();
    }

    [Fact]
    public async Task Chat_ThinkFalseOnThinkingModel_AnswersWithoutThinking()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = ["deepseek-r1:7b"]);
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/chat", """{"model":"deepseek-r1:7b","messages":[{"role":"user","content":"hi"}],"think":false,"stream":false}""");
        var body = await SimulatorKit.JsonAsync(response);

        body.GetProperty("message").TryGetProperty("thinking", out _).Should().BeFalse();
        body.GetProperty("message").GetProperty("content").GetString().Should().NotBeEmpty();
    }

    [Fact]
    public async Task Generate_ThinkOnModelWithoutThinking_Returns400WithOllamasText()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","think":true}""");

        ((int)response.StatusCode).Should().Be(400);
        (await SimulatorKit.ErrorOfAsync(response)).Should().Be("\"llama3.2\" does not support thinking");
    }

    [Fact]
    public async Task Chat_WithTools_StreamsOneToolCallToTheFirstTool()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        const string Body = """
            {"model":"llama3.2","messages":[{"role":"user","content":"weather in tokyo?"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string"}},"required":["city","unit"]}}},
                      {"type":"function","function":{"name":"other","parameters":{"type":"object","properties":{}}}}]}
            """;
        using var response = await SimulatorKit.PostAsync(client, "/api/chat", Body);
        var lines = await SimulatorKit.LinesAsync(response);

        lines.Should().HaveCount(2);
        var call = lines[0].GetProperty("message").GetProperty("tool_calls").EnumerateArray().Should().ContainSingle().Subject;
        call.GetProperty("id").GetString().Should().MatchRegex("^call_[a-z0-9]{8}$");
        call.GetProperty("function").GetProperty("index").GetInt32().Should().Be(0);
        call.GetProperty("function").GetProperty("name").GetString().Should().Be("get_weather");
        call.GetProperty("function").GetProperty("arguments").GetRawText().Should().Be("""{"city":"value","unit":"value"}""");
        lines[0].GetProperty("message").GetProperty("content").GetString().Should().BeEmpty();
        lines[1].GetProperty("done_reason").GetString().Should().Be("stop");
    }

    [Fact]
    public async Task Chat_AfterAToolResult_AnswersInWords()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        const string Body = """
            {"model":"llama3.2","stream":false,"messages":[{"role":"user","content":"weather?"},{"role":"tool","content":"sunny","tool_name":"get_weather"}],
             "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{}}}}]}
            """;
        using var response = await SimulatorKit.PostAsync(client, "/api/chat", Body);
        var message = (await SimulatorKit.JsonAsync(response)).GetProperty("message");

        message.TryGetProperty("tool_calls", out _).Should().BeFalse();
        message.GetProperty("content").GetString().Should().NotBeEmpty();
    }

    [Fact]
    public async Task Generate_WithFormat_AnswersJsonUsingTheSchemasFirstProperty()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false,"format":{"type":"object","properties":{"city":{"type":"string"}}}}""");
        var answer = (await SimulatorKit.JsonAsync(response)).GetProperty("response").GetString()!;

        JsonDocument.Parse(answer).RootElement.GetProperty("city").GetString().Should().NotBeEmpty();
    }

    [Fact]
    public async Task Generate_DieAfterLines_AbortsTheConnectionMidStream()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        simulator.Faults.DieAfterLines = 2;
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", Generate);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var lines = new List<string>();

        var read = async () =>
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                lines.Add(line);
            }
        };

        await read.Should().ThrowAsync<IOException>();
        lines.Should().HaveCount(2);
        var entry = simulator.Journal.Entries.Should().ContainSingle().Subject;
        await entry.Completed.WaitAsync(SimulatorKit.Deadline);
        entry.ClientAborted.Should().BeFalse();
    }

    [Fact]
    public async Task Generate_ErrorAfterLines_SendsOllamasErrorLineAndEnds()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        simulator.Faults.ErrorAfterLines = 3;
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", Generate);
        var text = await response.Content.ReadAsStringAsync();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        ((int)response.StatusCode).Should().Be(200);
        lines.Should().HaveCount(4);
        lines[^1].Should().Be("""{"error":"an error was encountered while running the model"}""");
        lines.Take(3).Should().OnlyContain(l => l.Contains("\"done\":false", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Generate_ClientGoesAway_JournalRecordsTheAbortAndGenerationStops()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.TokensPerSecond = 5);
        using var client = SimulatorKit.Client(simulator);
        using var cancel = new CancellationTokenSource();
        var response = await SimulatorKit.PostAsync(client, "/api/generate", Generate, cancel.Token);
        var stream = await response.Content.ReadAsStreamAsync(cancel.Token);
        using (var reader = new StreamReader(stream))
        {
            (await reader.ReadLineAsync(cancel.Token)).Should().Contain("\"The\"");
        }

        var entry = simulator.Journal.Entries.Should().ContainSingle().Subject;
        entry.ClientAborted.Should().BeFalse();
        await cancel.CancelAsync();
        response.Dispose();

        await entry.Aborted.WaitAsync(SimulatorKit.Deadline);
        entry.ClientAborted.Should().BeTrue();
        await entry.Completed.WaitAsync(SimulatorKit.Deadline);
        simulator.ActiveRequests.Should().Be(0);
    }
}
