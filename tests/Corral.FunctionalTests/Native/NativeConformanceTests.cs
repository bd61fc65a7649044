using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Corral.Fleet;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Native;

/// <summary>Every native case of shared/fixtures/ollama through Corral in front of a backend that replays it.</summary>
public sealed class NativeConformanceTests
{
    public static TheoryData<string> NativeCases()
    {
        var data = new TheoryData<string>();
        foreach (var fixture in FixtureCase.Load("n"))
        {
            data.Add(fixture.ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(NativeCases))]
    public async Task NativeFixture_ThroughCorral_MatchesExpected(string name)
    {
        var fixture = FixtureCase.Named("n", name);
        await using var backend = await ReplayBackend.StartAsync(fixture);
        await using var corral = await CorralInstance.StartAsync([new BackendOptions { Name = "replay", Url = backend.BaseAddress }]);
        using var client = corral.Client();

        using var request = fixture.ToRequest();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var bytes = await response.Content.ReadAsByteArrayAsync();

        var expected = fixture.Expected;
        if (expected.TryGetProperty("same_as_upstream", out var same) && same.GetBoolean())
        {
            AssertSameAsUpstream(fixture.Upstream!.Value, response, bytes, fixture.Method);
        }
        else
        {
            ((int)response.StatusCode).Should().Be(expected.GetProperty("status").GetInt32());
            JsonMatch.ShouldMatch(expected.GetProperty("body"), JsonDocument.Parse(bytes).RootElement);
        }
    }

    private static void AssertSameAsUpstream(JsonElement upstream, HttpResponseMessage response, byte[] bytes, string method)
    {
        ((int)response.StatusCode).Should().Be(upstream.GetProperty("status").GetInt32());
        var contentType = upstream.GetProperty("headers").GetProperty("Content-Type").GetString()!;
        MediaType(response.Content.Headers.ContentType).Should().Be(contentType.Split(';')[0].Trim());

        if (method == "HEAD")
        {
            bytes.Should().BeEmpty("HEAD answers carry no body");
            return;
        }

        if (upstream.TryGetProperty("ndjson", out var lines))
        {
            var text = Encoding.UTF8.GetString(bytes);
            text.Should().EndWith("\n", "every NDJSON line ends with a newline");
            var received = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var expectedLines = lines.EnumerateArray().ToArray();
            received.Should().HaveCount(expectedLines.Length);
            for (var i = 0; i < received.Length; i++)
            {
                JsonMatch.ShouldMatch(expectedLines[i], JsonDocument.Parse(received[i]).RootElement, $"(line {i})");
            }
        }
        else if (upstream.TryGetProperty("body", out var json))
        {
            JsonMatch.ShouldMatch(json, JsonDocument.Parse(bytes).RootElement);
        }
        else
        {
            Encoding.UTF8.GetString(bytes).Should().Be(upstream.GetProperty("body_text").GetString());
        }
    }

    private static string? MediaType(MediaTypeHeaderValue? header) => header?.MediaType;
}
