using System.Buffers;
using Corral.Access;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Forwarding;

/// <summary>
/// Sends one request to one backend and relays the answer as it arrives: status, headers, then each chunk of
/// the body written and flushed at once, so NDJSON lines reach the client while the model is still generating.
/// The client's disconnect cancels the backend request.
/// </summary>
internal sealed partial class Forwarder(BackendClient client, ShutdownDrain drain, ILogger<Forwarder> logger)
{
    private const int BufferSize = 16 * 1024;

    /// <summary>
    /// Forwards to <paramref name="backend"/> and relays its answer. A backend that cannot be reached yields 502
    /// naming the backend and the cause; a failure after the answer began ends an NDJSON stream with an error line.
    /// </summary>
    public async Task ForwardAsync(HttpContext context, Backend backend, HttpMethod method, string pathAndQuery, HttpContent? content)
    {
        using var lease = backend.Acquire();
        using var response = await SendAsync(context, backend, method, pathAndQuery, content);
        if (response is not null)
        {
            await RelayAsync(context, backend, response);
        }
    }

    /// <summary>
    /// Sends the request and returns the backend's answer as soon as its headers arrived; or null after
    /// answering 502 (in the shape of the surface the request came in on), or when the client left.
    /// The caller holds the backend's lease for as long as it reads the answer.
    /// </summary>
    private async Task<HttpResponseMessage?> SendAsync(HttpContext context, Backend backend, HttpMethod method, string pathAndQuery, HttpContent? content)
    {
        var aborted = context.RequestAborted;
        var request = client.CreateRequest(backend, method, pathAndQuery, context.Features.Get<Caller>());
        request.Content = content;
        CopyRequestHeaders(context.Request, request);
        try
        {
            var response = await client.SendAsync(request, aborted);
            context.Response.Headers["X-Corral-Backend"] = backend.Name;
            return response;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            request.Dispose();
            if (aborted.IsCancellationRequested)
            {
                return null;
            }

            LogUnreachable(logger, backend.Name, UpstreamFailure.Describe(e));
            await ErrorResponses.WriteAsync(context, StatusCodes.Status502BadGateway, UpstreamFailure.Unreachable(backend, e));
            return null;
        }
    }

    /// <summary>Relays a dispatched inference answer and, when all of it reached the client, completes the dispatch.</summary>
    public async Task RelayAsync(HttpContext context, Dispatch dispatch)
    {
        if (await RelayAsync(context, dispatch.Backend, dispatch.Response))
        {
            dispatch.Complete();
        }
    }

    /// <summary>
    /// Copies status, headers and body of <paramref name="response"/> to the client; true when the whole answer
    /// was relayed. Reads are bounded by the backend's idle timeout and the shutdown drain deadline.
    /// </summary>
    public async Task<bool> RelayAsync(HttpContext context, Backend backend, HttpResponseMessage response)
    {
        var aborted = context.RequestAborted;
        var target = context.Response;
        target.StatusCode = (int)response.StatusCode;
        CopyResponseHeaders(response, target);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return true;
        }

        var isStream = response.Content.Headers.ContentLength is null;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        using var deadline = new RelayDeadline(aborted, drain, backend.IdleTimeout);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(aborted);
            if (isStream)
            {
                await target.StartAsync(aborted);
            }

            while (true)
            {
                int read;
                try
                {
                    deadline.Touch();
                    read = await body.ReadAsync(buffer, deadline.Token);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !aborted.IsCancellationRequested)
                {
                    await EndBrokenStreamAsync(context, backend, UpstreamFailure.MidStream(backend, UpstreamFailure.Describe(e)));
                    return false;
                }
                catch (OperationCanceledException) when (deadline.Cause(backend) is { } cause)
                {
                    await EndBrokenStreamAsync(context, backend, cause);
                    return false;
                }

                if (read == 0)
                {
                    return true;
                }

                await target.BodyWriter.WriteAsync(buffer.AsMemory(0, read), aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left; disposing the response closes the backend connection, which stops generation.
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task EndBrokenStreamAsync(HttpContext context, Backend backend, string message)
    {
        LogBrokenStream(logger, backend.Name, message);
        var contentType = context.Response.ContentType ?? string.Empty;
        if (contentType.StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase))
        {
            var line = OllamaError.Encode(message);
            await context.Response.BodyWriter.WriteAsync(line, context.RequestAborted);
            await context.Response.BodyWriter.WriteAsync("\n"u8.ToArray(), context.RequestAborted);
            return;
        }

        // A fixed-length answer cannot be completed: cut the connection so the client sees it was truncated.
        context.Abort();
    }

    public static void CopyRequestHeaders(HttpRequest source, HttpRequestMessage target)
    {
        // An allow-list: nothing the client sends about itself (Authorization, cookies, forwarding chains)
        // reaches a backend unless it is known to be harmless and useful.
        if (source.Headers.Accept is { Count: > 0 } accept)
        {
            target.Headers.TryAddWithoutValidation("Accept", (IEnumerable<string>)accept);
        }

        if (source.Headers.UserAgent is { Count: > 0 } agent)
        {
            target.Headers.TryAddWithoutValidation("User-Agent", (IEnumerable<string>)agent);
        }

        if (target.Content is not null && source.ContentType is { } contentType && target.Content.Headers.ContentType is null)
        {
            target.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
    }

    private static void CopyResponseHeaders(HttpResponseMessage source, HttpResponse target)
    {
        foreach (var header in source.Headers.NonValidated)
        {
            if (!IsHopByHop(header.Key))
            {
                target.Headers[header.Key] = Values(header.Value);
            }
        }

        foreach (var header in source.Content.Headers.NonValidated)
        {
            target.Headers[header.Key] = Values(header.Value);
        }
    }

    private static Microsoft.Extensions.Primitives.StringValues Values(System.Net.Http.Headers.HeaderStringValues values) =>
        values.Count == 1 ? new Microsoft.Extensions.Primitives.StringValues(values.ToString()) : new Microsoft.Extensions.Primitives.StringValues(values.ToArray());

    private static bool IsHopByHop(string name) =>
        name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Trailer", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Date", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Server", StringComparison.OrdinalIgnoreCase);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} could not be reached: {Cause}")]
    private static partial void LogUnreachable(ILogger logger, string backend, string cause);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream from backend {Backend} ended early: {Message}")]
    private static partial void LogBrokenStream(ILogger logger, string backend, string message);
}
