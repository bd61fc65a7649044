using Corral.Hosting;
using Corral.Usage;

namespace Corral.Pipeline;

/// <summary>
/// Opens a <see cref="RequestRecord"/> for every request and closes it when the answer is over: a request to a
/// surface route (<see cref="SurfaceRoute"/>) then becomes a usage record, whatever happened to it (answered,
/// refused, failed, cancelled). Every answer carries <c>X-Corral-Overhead-Ms</c>, the time Corral spent on it
/// before the answer started, less the queue and the backends (as LiteLLM's <c>x-litellm-overhead-duration-ms</c>).
/// Runs after routing (it reads the endpoint) and before the error boundary, so that a failure is recorded with
/// the status the client got.
/// </summary>
internal sealed class RecordMiddleware(RequestDelegate next, UsageRecorder recorder, TimeProvider time)
{
    private static readonly Func<object, Task> s_writeOverhead = WriteOverhead;

    public async Task InvokeAsync(HttpContext context)
    {
        var surface = context.GetEndpoint()?.Metadata.GetMetadata<SurfaceRoute>();
        var record = new RequestRecord(time.GetTimestamp(), time.GetUtcNow(), surface?.Route ?? string.Empty) { KeepsBodies = surface is not null && recorder.KeepsBodies };
        context.Features.Set(record);
        context.Response.OnStarting(s_writeOverhead, new OverheadState(context, record, recorder, time));
        if (surface is null)
        {
            await next(context);
            return;
        }

        try
        {
            await next(context);
        }
        finally
        {
            recorder.Complete(context, record);
        }
    }

    private static Task WriteOverhead(object state)
    {
        var (context, record, recorder, time) = (OverheadState)state;
        var overhead = recorder.Overhead(record, time.GetTimestamp());
        context.Response.Headers["X-Corral-Overhead-Ms"] = Durations.Milliseconds(overhead);
        return Task.CompletedTask;
    }

    private sealed record OverheadState(HttpContext Context, RequestRecord Record, UsageRecorder Recorder, TimeProvider Time);
}
