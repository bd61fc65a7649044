using Corral.Pipeline;

namespace Corral.Hosting;

/// <summary>
/// The last line of defence: nothing a client sends crashes Corral or reaches the client as a stack trace.
/// A client that left is not an error; anything else is logged and answered 500 in the surface's shape.
/// </summary>
internal sealed partial class ErrorBoundaryMiddleware(RequestDelegate next, ILogger<ErrorBoundaryMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected; the backend request was cancelled with it.
            MarkCancelled(context);
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
            MarkCancelled(context);
        }
        catch (Exception e)
        {
            LogUnhandled(logger, context.Request.Method, context.Request.Path, e);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }

            await ErrorWriter.WriteAsync(context, ProxyError.Internal);
        }
    }

    private static void MarkCancelled(HttpContext context)
    {
        if (context.Features.Get<RequestRecord>() is { } record)
        {
            record.Cancelled = true;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error serving {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception exception);
}
