using Corral.Access;
using Corral.Fleet;

namespace Corral.Forwarding;

/// <summary>A small, complete backend answer (copy, delete, non-streamed pull), or why there is none.</summary>
internal sealed record BufferedReply(Backend Backend, int Status, byte[] Body, string? ContentType, string? TransportError)
{
    public bool IsSuccess => TransportError is null && Status is >= 200 and < 300;

    /// <summary>The error message of a failed reply, in words.</summary>
    public string ErrorMessage => TransportError ?? OllamaError.MessageOf(Body);

    /// <summary>Sends one request and reads the whole (small) answer; transport failures become values.</summary>
    public static async Task<BufferedReply> SendAsync(BackendClient client, Backend backend, HttpMethod method, string path, HttpContent? content, Caller? caller, CancellationToken cancellationToken)
    {
        using var lease = backend.Acquire();
        try
        {
            using var request = client.CreateRequest(backend, method, path, caller);
            request.Content = content;
            using var response = await client.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return new BufferedReply(backend, (int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString(), null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new BufferedReply(backend, StatusCodes.Status502BadGateway, [], null, UpstreamFailure.Unreachable(backend, e));
        }
    }

    /// <summary>Writes this reply to the client as it came (or 502 for a transport failure).</summary>
    public Task WriteAsync(HttpContext context)
    {
        if (TransportError is not null)
        {
            return OllamaError.WriteAsync(context, StatusCodes.Status502BadGateway, TransportError);
        }

        var response = context.Response;
        response.StatusCode = Status;
        response.Headers["X-Corral-Backend"] = Backend.Name;
        if (ContentType is not null)
        {
            response.ContentType = ContentType;
        }

        response.ContentLength = Body.Length;
        return HttpMethods.IsHead(context.Request.Method) || Body.Length == 0
            ? Task.CompletedTask
            : response.Body.WriteAsync(Body, context.RequestAborted).AsTask();
    }
}
