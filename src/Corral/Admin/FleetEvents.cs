using System.Text.Json;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Admin;

/// <summary>
/// <c>GET /admin/api/events</c>: the fleet as server-sent events, for the web console (which reads it with
/// <c>fetch</c>, since <c>EventSource</c> cannot send a bearer key). Each <c>fleet</c> event's data is the JSON of
/// <c>GET /admin/api/backends</c> on one line: at once, again within <see cref="MinimumGap"/> of a change of the
/// fleet (<see cref="BackendFleet.Changed"/>, <see cref="BackendFleet.StatusChanged"/>), and every
/// <see cref="Interval"/> otherwise, since in-flight counts and queue depths move without a signal. A burst of
/// changes is one event. Ends when the client leaves or Corral stops: a graceful stop does not wait for it.
/// </summary>
internal sealed class FleetEvents(BackendFleet fleet, FleetAdminEndpoints backends, IHostApplicationLifetime lifetime, TimeProvider time)
{
    /// <summary>The longest time between two events.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    /// <summary>The shortest time between two events: bursts of changes are coalesced into one, at most 4 a second.</summary>
    public static readonly TimeSpan MinimumGap = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a comment line is written besides the events, for proxies that close a connection without one.</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    private static readonly byte[] s_retry = "retry: 2000\n\n"u8.ToArray();
    private static readonly byte[] s_eventStart = "event: fleet\ndata: "u8.ToArray();
    private static readonly byte[] s_eventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] s_keepAlive = ": keep-alive\n\n"u8.ToArray();

    public async Task StreamAsync(HttpContext context)
    {
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var token = ended.Token;
        var changed = new ChangeSignal();
        Action onChange = changed.Set;
        fleet.Changed += onChange;
        fleet.StatusChanged += onChange;
        try
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";
            // The reconnection delay a client's reader should keep to.
            await response.Body.WriteAsync(s_retry, token);
            var lastKeepAlive = time.GetTimestamp();
            while (true)
            {
                // Taken before the fleet is read: a change while it is read is sent in the next event.
                var next = changed.Take();
                var json = JsonSerializer.SerializeToUtf8Bytes(await backends.DescribeAllAsync(token), CorralJsonContext.Default.BackendsResponse);
                // The gap counts from before the event is written, so that it is over for whoever has read the event
                // and waited a gap (the tests' clock).
                var sent = time.GetTimestamp();
                await response.Body.WriteAsync(s_eventStart, token);
                await response.Body.WriteAsync(json, token);
                await response.Body.WriteAsync(s_eventEnd, token);
                if (time.GetElapsedTime(lastKeepAlive) >= KeepAlive)
                {
                    await response.Body.WriteAsync(s_keepAlive, token);
                    lastKeepAlive = time.GetTimestamp();
                }

                await response.Body.FlushAsync(token);
                await Task.WhenAny(next, Task.Delay(Interval, time, token));
                token.ThrowIfCancellationRequested();
                // A change right after an event waits out the gap, and whatever else changes meanwhile goes with it.
                var since = time.GetElapsedTime(sent);
                if (since < MinimumGap)
                {
                    await Task.Delay(MinimumGap - since, time, token);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // The client left, or Corral is stopping: the answer ends here.
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The connection broke while an event was written.
        }
        finally
        {
            fleet.Changed -= onChange;
            fleet.StatusChanged -= onChange;
        }
    }

    /// <summary>A change since the signal was last taken: set from any thread, taken by the one stream.</summary>
    private sealed class ChangeSignal
    {
        private TaskCompletionSource _changed = New();

        public void Set() => Volatile.Read(ref _changed).TrySetResult();

        /// <summary>A task that completes at the next change from now on.</summary>
        public Task Take()
        {
            var fresh = New();
            Volatile.Write(ref _changed, fresh);
            return fresh.Task;
        }

        private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
