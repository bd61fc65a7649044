using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Http;

/// <summary>One request as the endpoints see it.</summary>
internal sealed class SimRequest
{
    public SimRequest(HttpContext http, JournalEntry entry, SimulatorFaults faults, long startTimestamp, CancellationToken cancellation)
    {
        Http = http;
        Entry = entry;
        Faults = faults;
        Cancellation = cancellation;
        StartTimestamp = startTimestamp;
    }

    public HttpContext Http { get; }

    public JournalEntry Entry { get; }

    public SimulatorFaults Faults { get; }

    /// <summary>Fires when the client goes away or the simulator stops.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>TimeProvider timestamp of the request's arrival.</summary>
    public long StartTimestamp { get; }

    public byte[] Body { get; set; } = [];

    public string? RouteValue { get; set; }

    /// <summary>
    /// Writes an <see cref="ApiError"/> raised while handling the request; null for Ollama's own <c>{"error":"..."}</c>.
    /// A compatible surface sets its own envelope here, as Ollama's middleware wraps the writer.
    /// </summary>
    public Func<int, string, Task>? ErrorWriter { get; set; }
}
