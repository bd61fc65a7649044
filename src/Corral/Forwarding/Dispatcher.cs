using System.Globalization;
using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Forwarding;

/// <summary>
/// Sends one inference request into the fleet: asks the scheduler for a slot, sends, and fails over. A failure
/// before any byte reached the client (connection refused or reset, connect timeout, 503 busy) is retried on the
/// next-best backend, up to <c>--max-attempts</c>; the request body is rebuilt for each attempt from the bytes
/// Corral kept. What the client finally gets is the first answer that began, or an error naming what failed.
/// </summary>
internal sealed partial class Dispatcher(
    SlotScheduler scheduler,
    BackendClient client,
    CorralSettings settings,
    TimeProvider time,
    ILogger<Dispatcher> logger)
{
    /// <summary>
    /// Returns the backend's answer once its headers arrived, holding the slot; or null after answering the
    /// client with an error (or when it left). A non-null result must be <see cref="Dispatch.Complete"/>d.
    /// </summary>
    public async Task<Dispatch?> SendAsync(HttpContext context, CatalogModel model, string path, Func<ModelLocation, HttpContent> content, TimeSpan? keepAlive, string? session)
    {
        var aborted = context.RequestAborted;
        var caller = context.Features.Get<Caller>();
        var fairness = caller?.KeyId ?? string.Empty;
        session = session is null ? null : string.Concat(fairness, "\n", model.Name, "\n", session);
        var excluded = AdmissionRequest.NoneExcluded;
        var record = context.Features.Get<Pipeline.RequestRecord>();
        string? lastFailure = null;
        for (var attempt = 1; ; attempt++)
        {
            var request = new AdmissionRequest(model, fairness, session, excluded);
            AdmissionResult admitted;
            var queued = time.GetTimestamp();
            try
            {
                admitted = await scheduler.AdmitAsync(request, aborted);
                if (record is not null)
                {
                    record.QueueWait += time.GetElapsedTime(queued);
                }
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return null;
            }

            if (admitted.Rejection is { } rejection)
            {
                await RejectAsync(context, rejection, lastFailure);
                return null;
            }

            var admission = admitted.Admission!;
            var backend = admission.Backend;
            if (record is not null)
            {
                record.Backend = backend;
                record.Attempts = attempt;
            }

            var canRetry = attempt < settings.MaxAttempts && SlotScheduler.HasAlternative(request, backend);
            var outcome = await TryAsync(context, admission, path, content(admission.Location), caller, canRetry);
            if (outcome.Response is { } response)
            {
                context.Response.Headers["X-Corral-Backend"] = backend.Name;
                if (admission.Reason is { } reason)
                {
                    context.Response.Headers["X-Corral-Route"] = attempt == 1 ? reason : $"{reason}; attempt {attempt}";
                }

                return new Dispatch(admission, response, keepAlive, time);
            }

            admission.Dispose();
            if (outcome.Failure is null)
            {
                return null; // the client left
            }

            lastFailure = outcome.Failure;
            if (!outcome.Retry || attempt >= settings.MaxAttempts)
            {
                await ErrorResponses.WriteAsync(context, outcome.Status, outcome.Failure);
                return null;
            }

            LogFailover(logger, backend.Name, outcome.Failure);
            record?.AddFailover(backend);
            excluded = new HashSet<Backend>(excluded) { backend };
        }
    }

    private async Task<Outcome> TryAsync(HttpContext context, Admission admission, string path, HttpContent content, Caller? caller, bool canRetry)
    {
        var aborted = context.RequestAborted;
        var backend = admission.Backend;
        var request = client.CreateRequest(backend, HttpMethod.Post, path, caller);
        request.Content = content;
        Forwarder.CopyRequestHeaders(context.Request, request);
        using var firstByte = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        firstByte.CancelAfter(backend.FirstByteTimeout);
        var started = time.GetTimestamp();
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, firstByte.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or TimeoutException)
        {
            request.Dispose();
            if (aborted.IsCancellationRequested)
            {
                return default;
            }

            if (e is OperationCanceledException && firstByte.IsCancellationRequested)
            {
                var waited = Seconds(backend.FirstByteTimeout);
                backend.Health.RecordFailure(time.GetUtcNow(), $"no answer within the first-byte timeout ({waited} s)");
                return new Outcome(null, StatusCodes.Status504GatewayTimeout, $"{backend.Describe()} did not answer within the first-byte timeout of {waited} s", Retry: false);
            }

            var cause = UpstreamFailure.Describe(e);
            backend.Health.RecordFailure(time.GetUtcNow(), cause);
            return new Outcome(null, StatusCodes.Status502BadGateway, UpstreamFailure.Unreachable(backend, e), Retry: UpstreamFailure.IsRetryable(e));
        }
        finally
        {
            if (context.Features.Get<Pipeline.RequestRecord>() is { } record)
            {
                record.BackendWait += time.GetElapsedTime(started);
            }
        }

        var firstByteTime = time.GetElapsedTime(started);
        var status = (int)response.StatusCode;
        if (status == StatusCodes.Status503ServiceUnavailable && canRetry)
        {
            // Ollama's "server busy": its own queue is full. Not a sign of ill health; another backend may have room.
            // With no other backend to try, the busy answer itself is relayed.
            var said = OllamaError.MessageOf(await ReadSmallAsync(response, aborted));
            response.Dispose();
            return new Outcome(null, status, $"{backend.Describe()} is busy: {said}", Retry: true);
        }

        if (status >= 500 && status != StatusCodes.Status503ServiceUnavailable)
        {
            backend.Health.RecordFailure(time.GetUtcNow(), $"answered {status} {response.ReasonPhrase}");
        }
        else
        {
            if (backend.Health.RecordSuccess(time.GetUtcNow()))
            {
                // A request that began before the circuit opened came back fine: the backend is back.
                scheduler.Reconsider();
            }

            if (!admission.WasLoaded && response.IsSuccessStatusCode && response.Content.Headers.ContentLength is null)
            {
                // A streamed answer's first byte comes after the load and the first token: mostly the load.
                backend.ObserveColdStart(firstByteTime);
            }
        }

        return new Outcome(response, status, null, Retry: false);
    }

    private static async Task<byte[]> ReadSmallAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return [];
        }
    }

    private static Task RejectAsync(HttpContext context, Rejection rejection, string? lastFailure)
    {
        var status = rejection.Kind == RejectionKind.NoBackend && lastFailure is not null
            ? StatusCodes.Status502BadGateway
            : StatusCodes.Status503ServiceUnavailable;
        var message = rejection.Kind == RejectionKind.NoBackend && lastFailure is not null ? lastFailure : rejection.Message;
        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(rejection.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return ErrorResponses.WriteAsync(context, status, message, rejection.Kind == RejectionKind.NoBackend ? null : "server_busy");
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failing over from backend {Backend}: {Cause}")]
    private static partial void LogFailover(ILogger logger, string backend, string cause);

    private readonly record struct Outcome(HttpResponseMessage? Response, int Status, string? Failure, bool Retry);
}

/// <summary>
/// A request under way on its backend: the answer (headers arrived) and the slot it holds. Completing it
/// returns the slot and, when the answer succeeded, records the model as loaded until its keep_alive ends.
/// </summary>
internal sealed class Dispatch(Admission admission, HttpResponseMessage response, TimeSpan? keepAlive, TimeProvider time) : IDisposable
{
    public Admission Admission { get; } = admission;

    public Backend Backend => Admission.Backend;

    public ModelLocation Location => Admission.Location;

    public HttpResponseMessage Response { get; } = response;

    /// <summary>Call when the whole answer was relayed; then dispose.</summary>
    public void Complete()
    {
        if (!Response.IsSuccessStatusCode)
        {
            return;
        }

        var now = time.GetUtcNow();
        Backend.Loaded.MarkLoaded(Admission.ModelKey, KeepAlive.Until(keepAlive, now), now);
        Admission.Succeeded();
    }

    public void Dispose()
    {
        Response.Dispose();
        Admission.Dispose();
    }
}
