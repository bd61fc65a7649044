using System.Text;
using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

/// <summary>Every native fixture case, sent to a simulator holding the case's model, gets an answer of the fixture's shape.</summary>
public sealed class SimulatorConformanceTests
{
    public static TheoryData<string> NativeCases()
    {
        var data = new TheoryData<string>();
        foreach (var name in FixtureCases.Native())
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void NativeCases_FixtureDirectory_HasTheNativeCases()
    {
        FixtureCases.Native().Should().Contain(["n01_root_get.json", "n07_generate_stream.json", "n21_error_midstream.json"]);
    }

    [Theory]
    [MemberData(nameof(NativeCases))]
    public async Task NativeCase_SentToSimulator_MatchesUpstreamShape(string caseFile)
    {
        var fixture = FixtureCases.Load(caseFile);
        var request = fixture.GetProperty("request");
        var upstream = fixture.GetProperty("upstream_ollama_response");
        var upstreamStatus = upstream.GetProperty("status").GetInt32();

        var models = new List<string>();
        if (request.GetProperty("body") is { ValueKind: JsonValueKind.Object } requestBody
            && requestBody.TryGetProperty("model", out var model) && upstreamStatus < 400 && request.GetProperty("path").GetString() != "/api/pull")
        {
            models.Add(model.GetString()!);
        }

        if (upstream.TryGetProperty("body", out var upstreamBody) && upstreamBody.ValueKind == JsonValueKind.Object
            && upstreamBody.TryGetProperty("models", out var listed))
        {
            models.AddRange(listed.EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
        }

        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = models.Count > 0 ? models : ["llama3.2"]);
        if (upstream.TryGetProperty("ndjson", out var expectedLines))
        {
            var errorAt = expectedLines.EnumerateArray().TakeWhile(l => !l.TryGetProperty("error", out _)).Count();
            if (errorAt > 0 && errorAt < expectedLines.GetArrayLength())
            {
                simulator.Faults.ErrorAfterLines = errorAt;
            }
        }

        using var client = SimulatorKit.Client(simulator);
        var method = new HttpMethod(request.GetProperty("method").GetString()!);
        var body = request.GetProperty("body");
        using var message = SimulatorKit.Request(method, request.GetProperty("path").GetString()!, body.ValueKind == JsonValueKind.Null ? null : body.GetRawText());
        using var response = await client.SendAsync(message);

        ((int)response.StatusCode).Should().Be(upstreamStatus);
        var expectedType = upstream.GetProperty("headers").GetProperty("Content-Type").GetString();
        response.Content.Headers.ContentType?.ToString().Should().Be(expectedType);
        var text = await response.Content.ReadAsStringAsync();

        if (upstream.TryGetProperty("body_text", out var bodyText))
        {
            text.Should().Be(bodyText.GetString());
        }
        else if (upstream.TryGetProperty("ndjson", out var ndjson))
        {
            var actual = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Parse).ToList();
            var expected = ndjson.EnumerateArray().ToList();
            text.Should().EndWith("\n");
            actual.Should().NotBeEmpty();
            JsonShape.Of(actual[0]).Should().Be(JsonShape.Of(expected[0]), "the first line has the fixture's first line's shape");
            JsonShape.Of(actual[^1]).Should().Be(JsonShape.Of(expected[^1]), "the last line has the fixture's last line's shape");
            actual.Select(l => JsonShape.Of(l)).ToHashSet().Should().BeEquivalentTo(expected.Select(l => JsonShape.Of(l)).ToHashSet(), "the stream has the fixture's kinds of line");
        }
        else if (method == HttpMethod.Head)
        {
            text.Should().BeEmpty();
        }
        else
        {
            JsonShape.Of(Parse(text)).Should().Be(JsonShape.Of(upstream.GetProperty("body")));
        }
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(Encoding.UTF8.GetBytes(json));
        return document.RootElement.Clone();
    }
}
