using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Simulator;

/// <summary>
/// Every /v1/messages, /v1/responses and /v1/audio/transcriptions case (prefixes a, r, t), sent to a simulator
/// holding the case's model, gets an answer of the fixture's shape: status, content type, JSON shape, and for
/// streams the same events in the same order (a run of deltas counts once) with data of the same shape.
/// </summary>
public sealed class SimulatorSurfaceConformanceTests
{
    private static readonly string[] s_prefixes = ["a", "r", "t"];
    public static TheoryData<string> SurfaceCases()
    {
        var data = new TheoryData<string>();
        foreach (var prefix in s_prefixes)
        {
            foreach (var fixture in FixtureCase.Load(prefix))
            {
                data.Add(fixture.ToString());
            }
        }

        return data;
    }

    [Fact]
    public void SurfaceCases_RepositoryFixtures_AreLoaded()
    {
        var names = s_prefixes.SelectMany(FixtureCase.Load).Select(f => f.ToString());
        names.Should().Contain(["a02_messages_stream", "r02_responses_stream", "t01_transcription_json"]);
    }

    [Theory]
    [MemberData(nameof(SurfaceCases))]
    public async Task SurfaceCase_SentToSimulator_MatchesUpstreamShape(string name)
    {
        var fixture = FixtureCase.Named(name[..1], name);
        var upstream = fixture.Upstream!.Value;
        var status = upstream.GetProperty("status").GetInt32();
        var models = status != 404 && fixture.Model is { Length: > 0 } model ? [model] : new List<string> { "llama3.2" };
        await using var simulator = await SimulatorKit.StartAsync(o => o.Models = models);
        using var client = SimulatorKit.Client(simulator);

        using var request = fixture.ToRequest();
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        ((int)response.StatusCode).Should().Be(status, text);
        response.Content.Headers.ContentType?.ToString().Should().Be(upstream.GetProperty("headers").GetProperty("Content-Type").GetString());
        if (upstream.TryGetProperty("sse", out var events))
        {
            var actual = ServerSentEvents.Parse(text);
            var expected = events.EnumerateArray().Select(e => (Event: e.GetProperty("event").GetString()!, Data: e.GetProperty("data"))).ToList();
            var actualRuns = ServerSentEvents.Runs(actual);
            var expectedRuns = ServerSentEvents.Runs(expected);
            actualRuns.Select(r => r.Event).Should().Equal(expectedRuns.Select(r => r.Event), "the events come in the fixture's order");
            for (var i = 0; i < actualRuns.Count; i++)
            {
                JsonShape.OfSurface(actualRuns[i].Data).Should().Be(JsonShape.OfSurface(expectedRuns[i].Data), $"event {i} ({actualRuns[i].Event}) has the fixture's shape");
            }
        }
        else if (upstream.TryGetProperty("body_text", out _))
        {
            text.Should().NotBeEmpty().And.NotStartWith("{").And.Be(text.Trim(), "a text transcript is the bare, trimmed text");
        }
        else
        {
            text.Should().EndWith("}" + (Encoded(upstream) ? "\n" : string.Empty));
            using var document = JsonDocument.Parse(text);
            JsonShape.OfSurface(document.RootElement).Should().Be(JsonShape.OfSurface(upstream.GetProperty("body")));
        }

        var entry = simulator.Journal.Entries.Should().ContainSingle().Subject;
        entry.Path.Should().Be(fixture.Path);
        entry.Model.Should().Be(fixture.Model, "the journal names the body's model");
    }

    /// <summary>Answers written by the surfaces' writers end with json.Encoder's newline; gin's own do not.</summary>
    private static bool Encoded(JsonElement upstream) =>
        upstream.GetProperty("headers").GetProperty("Content-Type").GetString() is "application/json" or "application/x-ndjson";
}
