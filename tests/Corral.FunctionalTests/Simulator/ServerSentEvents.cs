using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

/// <summary>Reading <c>event: X\ndata: {...}\n\n</c> streams.</summary>
internal static class ServerSentEvents
{
    public static List<(string Event, JsonElement Data)> Parse(string text)
    {
        text.Should().EndWith("\n\n", "every server-sent event ends with a blank line");
        var events = new List<(string Event, JsonElement Data)>();
        foreach (var frame in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = frame.Split('\n');
            lines.Should().HaveCount(2, "each frame is one event line and one data line: " + frame);
            lines[0].Should().StartWith("event: ");
            lines[1].Should().StartWith("data: ");
            using var document = JsonDocument.Parse(lines[1]["data: ".Length..]);
            events.Add((lines[0]["event: ".Length..], document.RootElement.Clone()));
        }

        return events;
    }

    /// <summary>Consecutive events of one name collapsed to the first, so streams of different lengths compare.</summary>
    public static List<(string Event, JsonElement Data)> Runs(List<(string Event, JsonElement Data)> events) =>
        events.Where((e, i) => i == 0 || events[i - 1].Event != e.Event).ToList();
}
