using Corral.Admin;
using Corral.Hosting;
using Corral.Usage;

namespace Corral.Pipeline;

/// <summary>
/// The frame of every request. It opens a <see cref="RequestRecord"/> and closes it when the answer is over: a
/// request to a surface route (<see cref="SurfaceRoute"/>) then becomes a usage record, whatever happened to it
/// (answered, refused, failed, cancelled). It is the last line of defence too: nothing a client sends crashes
/// Corral or reaches the client as a stack trace; a client that left is not an error, anything else is logged and
/// answered 500 in the surface's shape (and recorded so). An endpoint marked <see cref="AuditedAction"/> is written
/// to the audit as well, whatever its outcome. Every answer carries <c>X-Corral-Overhead-Ms</c>, the time
/// Corral spent on it before the answer started, less the queue and the backends (as LiteLLM's
/// <c>x-litellm-overhead-duration-ms</c>). Runs after routing, so it knows the endpoint.
/// </summary>
/// <remarks>One middleware rather than a record middleware and an error boundary: one async frame less on every request.</remarks>
internal sealed partial class RecordMiddleware
{
    private readonly RequestDelegate _next;
    private readonly UsageRecorder _recorder;
    private readonly AuditTrail _audit;
    private readonly TimeProvider _time;
    private readonly ILogger<RecordMiddleware> _logger;
    private readonly Func<object, Task> _writeOverhead;

    public RecordMiddleware(RequestDelegate next, UsageRecorder recorder, AuditTrail audit, TimeProvider time, ILogger<RecordMiddleware> logger)
    {
        _next = next;
        _recorder = recorder;
        _audit = audit;
        _time = time;
        _logger = logger;
        // One callback for every request (its state is the request's record): nothing allocated per request for it.
        _writeOverhead = WriteOverhead;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata;
        var surface = metadata?.GetMetadata<SurfaceRoute>();
        var record = new RequestRecord(_time.GetTimestamp(), _time.GetUtcNow(), surface?.Route ?? string.Empty)
        {
            KeepsBodies = surface is not null && _recorder.KeepsBodies,
            Response = context.Response,
        };
        context.Features.Set(record);
        context.Response.OnStarting(_writeOverhead, record);
        try
        {
            await _next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected; the backend request was cancelled with it.
            record.Cancelled = true;
        }
        catch (BadHttpRequestException e)
        {
            await ErrorWriter.WriteAsync(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? ProxyError.TooLarge("request body too large")
                : new ProxyError(ErrorKind.BadRequest, e.StatusCode, $"bad request: {e.Message}"));
        }
        catch (Exception e) when (context.RequestAborted.IsCancellationRequested && e is IOException)
        {
            // Writing to a client that already left.
            record.Cancelled = true;
        }
        catch (Exception e) when (Storage.StoreErrors.IsUnreachable(e) && !context.Response.HasStarted)
        {
            // Admin writes and reads need the database; everything else is served from what is in memory.
            LogStoreUnreachable(_logger, context.Request.Method, Access.KeyInPath.Mask(context.Request.Path.Value ?? "/"), e.Message);
            await ErrorWriter.WriteAsync(context, ProxyError.Unavailable(Storage.StoreErrors.Unreachable, TimeSpan.FromSeconds(5)));
        }
        catch (Exception e)
        {
            LogUnhandled(_logger, context.Request.Method, context.Request.Path, e);
            if (context.Response.HasStarted)
            {
                context.Abort();
            }
            else
            {
                await ErrorWriter.WriteAsync(context, ProxyError.Internal);
            }
        }
        finally
        {
            if (surface is not null)
            {
                _recorder.Complete(context, record);
            }

            if (metadata?.GetMetadata<AuditedAction>() is { } action)
            {
                await _audit.RecordAsync(context, record, action);
            }
        }
    }

    private Task WriteOverhead(object state)
    {
        var record = (RequestRecord)state;
        record.Response!.Headers["X-Corral-Overhead-Ms"] = Durations.Milliseconds(_recorder.Overhead(record, _time.GetTimestamp()));
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database could not be reached to serve {Method} {Path}: {Reason}")]
    private static partial void LogStoreUnreachable(ILogger logger, string method, string path, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error serving {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}
