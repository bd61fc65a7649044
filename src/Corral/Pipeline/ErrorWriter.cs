using System.Globalization;
using Corral.Native;

namespace Corral.Pipeline;

/// <summary>Answers a <see cref="ProxyError"/> with the writer of the endpoint's surface (Ollama's shape by default).</summary>
internal static class ErrorWriter
{
    /// <summary>
    /// Sets the status and the headers the error calls for, records the error, and writes it, unless the answer
    /// already started (then there is nothing sane to add) or the client left.
    /// </summary>
    public static Task WriteAsync(HttpContext context, ProxyError error)
    {
        var record = context.Features.Get<RequestRecord>();
        if (error.Kind == ErrorKind.ClientLeft)
        {
            if (record is not null)
            {
                record.Cancelled = true;
            }

            return Task.CompletedTask;
        }

        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        if (record is not null)
        {
            record.Error ??= error.Message;
        }

        response.StatusCode = error.Status;
        if (error.RetryAfter is { } retryAfter)
        {
            response.Headers.RetryAfter = ProxyError.RetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture);
        }

        if (error.Allow is { } allow)
        {
            response.Headers.Allow = allow;
        }

        if (error.Kind == ErrorKind.Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        var writer = context.GetEndpoint()?.Metadata.GetMetadata<ISurfaceErrors>() ?? NativeErrors.Instance;
        return writer.WriteAsync(context, error);
    }
}
