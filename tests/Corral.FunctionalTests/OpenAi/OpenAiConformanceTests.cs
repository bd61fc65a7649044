using System.Text.Json;
using Corral.Fleet;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.OpenAi;

/// <summary>
/// Every OpenAI case of shared/fixtures/ollama through Corral in front of a backend that replays it: the
/// native request Corral sends upstream and the answer the client gets must both match the fixture.
/// </summary>
public sealed class OpenAiConformanceTests
{
    public static TheoryData<string> OpenAiCases()
    {
        var data = new TheoryData<string>();
        foreach (var fixture in FixtureCase.Load("o"))
        {
            data.Add(fixture.ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OpenAiCases))]
    public async Task OpenAiFixture_ThroughCorral_SendsTheNativeRequestAndAnswersAsExpected(string name)
    {
        var fixture = FixtureCase.Named("o", name);
        await using var backend = await ReplayBackend.StartAsync(fixture);
        await using var corral = await CorralInstance.StartAsync([new BackendOptions { Name = "replay", Url = backend.BaseAddress }]);
        using var client = corral.Client();

        using var request = fixture.ToRequest();
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        var upstreamCalls = backend.Received.Where(r => r.Path != "/api/tags").ToArray();
        if (fixture.UpstreamRequest is { } expectedUpstream && expectedUpstream.GetProperty("path").GetString() != "/api/tags")
        {
            var call = upstreamCalls.Should().ContainSingle().Subject;
            call.Method.Should().Be(expectedUpstream.GetProperty("method").GetString());
            call.Path.Should().Be(expectedUpstream.GetProperty("path").GetString());
            JsonMatch.ShouldMatch(expectedUpstream.GetProperty("body"), JsonDocument.Parse(call.Body).RootElement, "(the native request sent upstream)");
        }
        else if (fixture.Upstream is null)
        {
            upstreamCalls.Should().BeEmpty("this request is answered without calling the backend");
        }

        var expected = fixture.Expected;
        ((int)response.StatusCode).Should().Be(expected.GetProperty("status").GetInt32(), text);
        response.Content.Headers.ContentType!.MediaType.Should().Be(expected.GetProperty("headers").GetProperty("Content-Type").GetString());
        if (expected.TryGetProperty("sse", out var frames))
        {
            AssertFrames(frames, text);
        }
        else
        {
            JsonMatch.ShouldMatch(expected.GetProperty("body"), JsonDocument.Parse(text).RootElement);
        }
    }

    internal static void AssertFrames(JsonElement expectedFrames, string text)
    {
        text.Should().EndWith("\n\n", "every server-sent event ends with a blank line");
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var expected = expectedFrames.EnumerateArray().ToArray();
        events.Should().HaveCount(expected.Length, text);
        for (var i = 0; i < events.Length; i++)
        {
            events[i].Should().StartWith("data: ");
            var data = events[i]["data: ".Length..];
            if (expected[i].ValueKind == JsonValueKind.String)
            {
                data.Should().Be(expected[i].GetString());
            }
            else
            {
                JsonMatch.ShouldMatch(expected[i], JsonDocument.Parse(data).RootElement, $"(frame {i})");
            }
        }
    }
}
