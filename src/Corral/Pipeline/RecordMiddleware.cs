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
internal sealed class RecordMiddleware
{
    private readonly RequestDelegate _next;
    private readonly UsageRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly Func<object, Task> _writeOverhead;

    public RecordMiddleware(RequestDelegate next, UsageRecorder recorder, TimeProvider time)
    {
        _next = next;
        _recorder = recorder;
        _time = time;
        // One callback for every request (its state is the request's record): nothing allocated per request for it.
        _writeOverhead = WriteOverhead;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var surface = context.GetEndpoint()?.Metadata.GetMetadata<SurfaceRoute>();
        var record = new RequestRecord(_time.GetTimestamp(), _time.GetUtcNow(), surface?.Route ?? string.Empty)
        {
            KeepsBodies = surface is not null && _recorder.KeepsBodies,
            Response = context.Response,
        };
        context.Features.Set(record);
        context.Response.OnStarting(_writeOverhead, record);
        if (surface is null)
        {
            await _next(context);
            return;
        }

        try
        {
            await _next(context);
        }
        finally
        {
            _recorder.Complete(context, record);
        }
    }

    private Task WriteOverhead(object state)
    {
        var record = (RequestRecord)state;
        record.Response!.Headers["X-Corral-Overhead-Ms"] = Durations.Milliseconds(_recorder.Overhead(record, _time.GetTimestamp()));
        return Task.CompletedTask;
    }
}
