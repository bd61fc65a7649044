using System.Text.Json;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>Reads a whole server-sent event stream of named events (<c>event:</c> and <c>data:</c> lines, a blank line after each).</summary>
internal static class ServerSentEvents
{
    public static (string Event, JsonElement Data)[] Parse(string text)
    {
        text.Should().EndWith("\n\n", "every server-sent event ends with a blank line");
        return [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(frame =>
        {
            var lines = frame.Split('\n');
            var name = lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
            using var document = JsonDocument.Parse(data);
            return (name, document.RootElement.Clone());
        })];
    }
}
