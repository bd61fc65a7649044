using Corral.Access;
using Corral.Fleet;
using Corral.Pipeline;

namespace Corral.Forwarding;

/// <summary>
/// Sends one request to one backend and returns as soon as the answer's headers arrived, or why they did not, as a
/// value. It never chooses a backend, retries, records health or writes to the client: those belong to the fleet
/// and the surfaces. Only harmless client headers go along; the time spent waiting is the backend's, recorded.
/// </summary>
internal sealed class Forwarder(BackendClient client, TimeProvider time)
{
    /// <summary>
    /// Sends the request; <paramref name="firstByteTimeout"/> bounds the wait for the answer's headers (none when
    /// null). The result holds the answer, or the failure, or neither when the client left. The wait counts as the
    /// backend's time in <paramref name="record"/>, unless <paramref name="recordWait"/> is false (sends that run
    /// side by side, as a fan-out's).
    /// </summary>
    public async Task<Sent> SendAsync(
        HttpContext context, RequestRecord? record, Backend backend, HttpMethod method, string pathAndQuery, HttpContent? content, TimeSpan? firstByteTimeout, bool recordWait = true)
    {
        var aborted = context.RequestAborted;
        var request = client.CreateRequest(backend, method, pathAndQuery, record?.Caller ?? context.Features.Get<Caller>());
        request.Content = content;
        CopyRequestHeaders(context.Request, request);
        using var firstByte = firstByteTimeout is { } limit && limit != Timeout.InfiniteTimeSpan ? CancellationTokenSource.CreateLinkedTokenSource(aborted) : null;
        firstByte?.CancelAfter(firstByteTimeout!.Value);
        var started = time.GetTimestamp();
        HttpResponseMessage? response = null;
        UpstreamFailure? failure = null;
        try
        {
            response = await client.SendAsync(request, firstByte?.Token ?? aborted);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or TimeoutException or IOException)
        {
            request.Dispose();
            if (!aborted.IsCancellationRequested)
            {
                failure = e is OperationCanceledException && firstByte is { IsCancellationRequested: true }
                    ? UpstreamFailure.TimedOut(firstByteTimeout!.Value, "the first-byte timeout")
                    : UpstreamFailure.Of(e);
            }
        }

        var waited = time.GetElapsedTime(started);
        if (recordWait && record is not null)
        {
            record.BackendWait += waited;
        }

        return new Sent(response, failure, waited);
    }

    /// <summary>
    /// An allow-list: nothing the client sends about itself (Authorization, cookies, forwarding chains) reaches a
    /// backend unless it is known to be harmless and useful.
    /// </summary>
    public static void CopyRequestHeaders(HttpRequest source, HttpRequestMessage target)
    {
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
}

/// <summary>The result of one send: the answer with its headers, or the failure; neither when the client left.</summary>
internal readonly record struct Sent(HttpResponseMessage? Response, UpstreamFailure? Failure, TimeSpan Waited)
{
    public bool ClientLeft => Response is null && Failure is null;
}
