using System.Net;
using System.Text.Json;
using Corral.Admin;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Admin;

/// <summary><c>GET /admin/api/events</c>: the fleet as server-sent events, read as the web console reads it (fetch with a bearer key).</summary>
public sealed class FleetEventsTests
{
    [Fact]
    public async Task Events_OnConnect_RetryThenAFleetEventAtOnce_TheJsonOfBackendsOnOneLine()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        await using var events = await EventStream.OpenAsync(admin);

        events.Response.StatusCode.Should().Be(HttpStatusCode.OK);
        events.Response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        events.Response.Headers.CacheControl!.NoCache.Should().BeTrue();
        events.Response.Headers.GetValues("X-Accel-Buffering").Should().Equal("no");
        (await events.ReadLineAsync()).Should().Be("retry: 2000");
        // Sooner than the interval: the first event does not wait for it.
        var first = await events.NextFleetAsync(FleetEvents.Interval);
        using var listed = await admin.GetAsync("/admin/api/backends");
        var backends = await listed.JsonAsync();
        first.EnumerateObject().Select(p => p.Name).Should().Equal(backends.EnumerateObject().Select(p => p.Name));
        first.GetProperty("backends")[0].EnumerateObject().Select(p => p.Name).Should().Equal(backends.GetProperty("backends")[0].EnumerateObject().Select(p => p.Name));
        first.GetProperty("backends")[0].GetProperty("name").GetString().Should().Be("a");
        first.GetProperty("backends")[0].GetProperty("state").GetString().Should().Be("healthy");
        first.GetProperty("backends")[0].GetProperty("models").EnumerateArray().Select(m => m.GetString()).Should().Equal("llama3.2:latest");
    }

    [Fact]
    public async Task Events_BackendDisabledThroughTheApi_ShownAtOnce_NotAtTheNextInterval()
    {
        // The clock stands still but for the gap between two events: only the change can bring the next one.
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")], time: time);
        using var admin = corral.Client();
        // The catalog listed beforehand (and never stale on this clock): the first event is not followed by one of a
        // listing it caused.
        (await admin.GetAsync("/admin/api/backends")).EnsureSuccessStatusCode();
        await using var events = await EventStream.OpenAsync(admin);
        StateOf(await events.NextFleetAsync(), "a").Should().Be("healthy");

        (await admin.PostAsync("/admin/api/backends/a/disable", null)).StatusCode.Should().Be(HttpStatusCode.OK);
        time.Advance(FleetEvents.MinimumGap);

        var next = await events.NextFleetAsync();
        StateOf(next, "a").Should().Be("disabled");
        StateOf(next, "b").Should().Be("healthy");
    }

    [Fact]
    public async Task Events_BackendStops_ShownUnhealthyInALaterEvent_WithoutARequest()
    {
        var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")],
            settings => settings with { HealthInterval = TimeSpan.FromSeconds(1) });
        using var admin = corral.Client();
        await using var events = await EventStream.OpenAsync(admin);
        StateOf(await events.NextFleetAsync(), "a").Should().Be("healthy");

        await a.DisposeAsync();

        var down = await Eventually.ValueAsync(() => events.NextFleetAsync(), e => StateOf(e, "a") == "unhealthy", "backend a is shown unhealthy", e => StateOf(e, "a") ?? "no state");
        down.GetProperty("backends")[0].GetProperty("lastError").GetString().Should().NotBeNullOrEmpty();
        StateOf(down, "b").Should().Be("healthy");
    }

    [Fact]
    public async Task Events_UserKey_403ProblemJson()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var user = corral.Client(await corral.CreateKeyAsync("user"));

        using var response = await user.GetAsync("/admin/api/events", HttpCompletionOption.ResponseHeadersRead);

        response.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await response.JsonAsync()).GetProperty("status").GetInt32().Should().Be(403);
    }

    [Fact]
    public async Task Events_CorralStops_TheStreamEnds_AndTheStopDoesNotWaitForIt()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], settings => settings with { DrainTimeout = TimeSpan.FromMinutes(5) });
        using var admin = corral.Client();
        await using var events = await EventStream.OpenAsync(admin);
        await events.NextFleetAsync();

        var stopping = corral.DisposeAsync().AsTask();

        // Within the deadline, far shorter than the drain timeout Kestrel would otherwise wait for.
        await Eventually.WaitUntilAsync(() => stopping.IsCompleted, "Corral has stopped with an events client connected");
        await stopping;
        string? line;
        while ((line = await events.ReadLineAsync()) is not null)
        {
            line.Should().NotBe("retry: 2000", "nothing starts over");
        }
    }

    private static string? StateOf(JsonElement fleet, string backend) =>
        fleet.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("name").GetString() == backend).GetProperty("state").GetString();

    /// <summary>A client reading the stream line by line, each read bounded by the deadline of <see cref="Eventually"/>.</summary>
    private sealed class EventStream : IAsyncDisposable
    {
        private readonly StreamReader _reader;

        private EventStream(HttpResponseMessage response, StreamReader reader)
        {
            Response = response;
            _reader = reader;
        }

        public HttpResponseMessage Response { get; }

        public static async Task<EventStream> OpenAsync(HttpClient admin)
        {
            var response = await admin.GetAsync("/admin/api/events", HttpCompletionOption.ResponseHeadersRead);
            return new EventStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        /// <summary>The next line; null at the end of the stream.</summary>
        public async Task<string?> ReadLineAsync(TimeSpan? deadline = null)
        {
            using var timeout = new CancellationTokenSource(deadline ?? Eventually.Deadline);
            return await _reader.ReadLineAsync(timeout.Token);
        }

        /// <summary>The data of the next <c>fleet</c> event (one <c>data:</c> line), skipping comments and other fields.</summary>
        public async Task<JsonElement> NextFleetAsync(TimeSpan? deadline = null)
        {
            using var timeout = new CancellationTokenSource(deadline ?? Eventually.Deadline);
            string? name = null;
            string? data = null;
            while (await _reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (name == "fleet")
                    {
                        data.Should().NotBeNull("a fleet event has data");
                        return JsonDocument.Parse(data!).RootElement.Clone();
                    }

                    name = null;
                    data = null;
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Should().BeNull("the JSON is on one line");
                    data = line["data: ".Length..];
                }
            }

            throw new EndOfStreamException("the events stream ended");
        }

        public ValueTask DisposeAsync()
        {
            _reader.Dispose();
            Response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
