using System.Text;
using System.Text.Json;
using Corral.Fleet;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.OpenAi;

/// <summary>
/// Every case of the APIs Ollama translates itself (a: Messages, r: Responses, t: transcriptions) through Corral in
/// front of a backend that replays it: the backend gets the client's request on the same path, untouched, unless
/// Corral answers it alone; the client gets the case's expected answer, streams event by event.
/// </summary>
public sealed class PassThroughConformanceTests
{
    public static TheoryData<string> Cases() => [.. Names()];

    private static IEnumerable<string> Names() => ((string[])["a", "r", "t"]).SelectMany(FixtureCase.Load).Select(f => f.ToString());

    [Fact]
    public void Cases_EachApi_HasItsCases()
    {
        Names().Should().Contain(n => n.StartsWith('a')).And.Contain(n => n.StartsWith('r')).And.Contain(n => n.StartsWith('t'));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Fixture_ThroughCorral_ReachesTheBackendUnchangedAndAnswersAsExpected(string name)
    {
        var fixture = FixtureCase.Named(name[..1], name);
        await using var backend = await ReplayBackend.StartAsync(fixture);
        await using var corral = await CorralInstance.StartAsync([new BackendOptions { Name = "replay", Url = backend.BaseAddress }]);
        using var client = corral.Client();
        using var request = fixture.ToRequest();
        var sent = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync();

        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        var calls = backend.Received.Where(r => r.Path == fixture.Path).ToArray();
        if (ReachesBackend(fixture))
        {
            var call = calls.Should().ContainSingle("the request goes to the backend's route of the same name").Subject;
            call.Body.Should().Equal(sent, "the body is passed through as the client sent it");
        }
        else
        {
            calls.Should().BeEmpty("Corral answers this request itself");
        }

        var expected = fixture.Expected;
        var upstream = fixture.Upstream!.Value;
        var answer = expected.TryGetProperty("same_as_upstream", out var same) && same.GetBoolean() ? upstream : expected;
        ((int)response.StatusCode).Should().Be(answer.GetProperty("status").GetInt32(), text);
        response.Content.Headers.ContentType!.MediaType.Should().Be(answer.GetProperty("headers").GetProperty("Content-Type").GetString()!.Split(';')[0].Trim());
        if (answer.TryGetProperty("sse", out var events))
        {
            var received = ServerSentEvents.Parse(text);
            received.Select(e => e.Event).Should().Equal(events.EnumerateArray().Select(e => e.GetProperty("event").GetString()), "every event is relayed, in order");
            for (var i = 0; i < received.Length; i++)
            {
                JsonMatch.ShouldMatch(events[i].GetProperty("data"), received[i].Data, $"(event {i}, {received[i].Event})");
            }
        }
        else if (answer.TryGetProperty("body_text", out var bodyText))
        {
            text.Should().Be(bodyText.GetString());
        }
        else
        {
            JsonMatch.ShouldMatch(answer.GetProperty("body"), JsonDocument.Parse(Encoding.UTF8.GetBytes(text)).RootElement);
        }
    }

    // Corral answers alone what it can tell is wrong before routing: no model (the backend's own checks go to it).
    private static bool ReachesBackend(FixtureCase fixture) => fixture.Model is { Length: > 0 };
}
