using Corral.Catalog;
using Corral.Forwarding;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Fleet;

/// <summary>
/// Sends one inference request into the fleet: a slot from the scheduler (or, for a request that takes none, a
/// holder chosen by the routing policy), the send, the backend's health from what happened, and failover. A
/// failure before any byte reached the client (connection refused or reset, connect timeout, 503 busy) is retried
/// on the next-best backend, up to <c>--max-attempts</c>; the body is rebuilt for each attempt from what the
/// surface kept. A request whose holders are all down, or went down while it was tried, gets 503 naming them.
/// </summary>
internal sealed partial class FleetDispatcher(
    SlotScheduler scheduler,
    IRoutingPolicy policy,
    Forwarder forwarder,
    HealthUpdater health,
    CorralSettings settings,
    TimeProvider time,
    ILogger<FleetDispatcher> logger)
{
    /// <summary>How long a client is told to wait after every backend answered busy.</summary>
    private static readonly TimeSpan s_busyRetry = TimeSpan.FromSeconds(1);

    /// <summary>The backend's answer once its headers arrived, holding its slot; or the error the client gets.</summary>
    public async Task<DispatchResult> SendAsync(HttpContext context, RequestRecord? record, CatalogModel model, InferenceRequest request)
    {
        var aborted = context.RequestAborted;
        var fairness = record?.Caller?.KeyId ?? string.Empty;
        var session = request.Session is { } asked ? string.Concat(fairness, "\n", model.Name, "\n", asked) : null;
        var excluded = AdmissionRequest.NoneExcluded;
        ProxyError? lastError = null;
        for (var attempt = 1; ; attempt++)
        {
            var admissionRequest = new AdmissionRequest(model, fairness, session, excluded, record?.Caller?.State?.Concurrency);
            Admission? admission = null;
            Backend backend;
            ModelLocation location;
            Backend.Lease lease = default;
            if (request.TakesSlot)
            {
                AdmissionResult admitted;
                var admitting = scheduler.AdmitAsync(admissionRequest, aborted);
                if (admitting.IsCompletedSuccessfully)
                {
                    // A free slot (or a refusal) at once: no wait to time.
                    admitted = admitting.Result;
                }
                else
                {
                    var queued = time.GetTimestamp();
                    try
                    {
                        admitted = await admitting;
                    }
                    catch (OperationCanceledException) when (aborted.IsCancellationRequested)
                    {
                        return ProxyError.ClientLeft;
                    }
                    finally
                    {
                        if (record is not null)
                        {
                            record.QueueWait += time.GetElapsedTime(queued);
                        }
                    }
                }

                if (admitted.Rejection is { } rejection)
                {
                    return Refused(rejection, model, lastError);
                }

                admission = admitted.Admission!;
                backend = admission.Backend;
                location = admission.Location;
            }
            else if (Pick(admissionRequest) is { } picked)
            {
                backend = picked;
                location = model.LocationOn(backend);
                lease = backend.Acquire();
            }
            else
            {
                return Refused(Rejection.NoBackend(model, excluded, settings.HealthInterval), model, lastError);
            }

            if (record is not null)
            {
                record.Backend = backend;
                record.Attempts = attempt;
                record.RouteReason = admission?.Reason;
            }

            var canRetry = attempt < settings.MaxAttempts && admissionRequest.HasAlternativeTo(backend);
            var sent = await forwarder.SendAsync(context, record, backend, HttpMethod.Post, request.UpstreamPath, request.ContentFor(location), backend.FirstByteTimeout);
            ProxyError error;
            if (sent.Response is { } response)
            {
                var status = (int)response.StatusCode;
                if (status == StatusCodes.Status503ServiceUnavailable && canRetry)
                {
                    // Ollama's "server busy": its own queue is full. Not a sign of ill health; another backend may have room.
                    // With no other backend to try, the busy answer itself is relayed.
                    var said = OllamaError.MessageOf(await ReadSmallAsync(response, aborted));
                    response.Dispose();
                    error = ProxyError.Busy($"{backend.Describe()} is busy: {said}", s_busyRetry);
                }
                else
                {
                    Answered(backend, admission, response, sent.Waited);
                    context.Response.Headers["X-Corral-Backend"] = backend.Name;
                    if (admission?.Reason is { } reason)
                    {
                        context.Response.Headers["X-Corral-Route"] = attempt == 1 ? reason : $"{reason}; attempt {attempt}";
                    }

                    return new Dispatch(backend, location, admission, lease, response, request.KeepAlive, time);
                }
            }
            else if (sent.Failure is { } failure)
            {
                health.Failed(backend, failure.Cause, failure.IsRefused);
                error = failure.Kind == FailureKind.AnswerTimeout
                    ? ProxyError.GatewayTimeout($"{backend.Describe()} did not answer within the first-byte timeout of {Durations.Seconds(backend.FirstByteTimeout)} s")
                    : ProxyError.BadGateway(failure.Unreachable(backend));
                canRetry &= failure.IsRetryable;
            }
            else
            {
                admission?.Dispose();
                lease.Dispose();
                return ProxyError.ClientLeft;
            }

            admission?.Dispose();
            lease.Dispose();
            lastError = error;
            if (!canRetry)
            {
                // The failure may have taken the last holder out: then the model is unavailable, not broken.
                return HoldersUnavailable(model) ? Unavailable(Rejection.NoBackend(model, AdmissionRequest.NoneExcluded, settings.HealthInterval)) : error;
            }

            LogFailover(logger, backend.Name, error.Message);
            record?.AddFailover(backend);
            excluded = new HashSet<Backend>(excluded) { backend };
        }
    }

    // What the backend's answer says about it: a 5xx other than busy counts against it, anything else for it.
    private void Answered(Backend backend, Admission? admission, HttpResponseMessage response, TimeSpan firstByte)
    {
        var status = (int)response.StatusCode;
        if (status >= 500 && status != StatusCodes.Status503ServiceUnavailable)
        {
            health.Failed(backend, $"answered {status} {response.ReasonPhrase}", refused: false);
            return;
        }

        health.RequestSucceeded(backend);
        if (admission is { WasLoaded: false } && response.IsSuccessStatusCode && response.Content.Headers.ContentLength is null)
        {
            // A streamed answer's first byte comes after the load and the first token: mostly the load.
            backend.ObserveColdStart(firstByte);
        }
    }

    // A holder for a request that takes no slot: the policy's pick among the eligible ones.
    private Backend? Pick(AdmissionRequest request)
    {
        var locations = request.Model.Locations;
        if (locations.Count == 1)
        {
            return request.IsEligible(locations[0].Backend) ? locations[0].Backend : null;
        }

        var eligible = request.Model.Candidates.Where(request.IsEligible).ToArray();
        return eligible.Length == 0 ? null : policy.Pick(eligible);
    }

    // A refusal of the scheduler. After a failure, "no backend left" is that failure unless the holders are down.
    private static ProxyError Refused(Rejection rejection, CatalogModel model, ProxyError? lastError)
    {
        if (rejection.Kind != RejectionKind.NoBackend)
        {
            return ProxyError.Busy(rejection.Message, rejection.RetryAfter);
        }

        return lastError is not null && !HoldersUnavailable(model) ? lastError : Unavailable(rejection);
    }

    private static bool HoldersUnavailable(CatalogModel model)
    {
        foreach (var holder in model.Holders)
        {
            if (holder.IsRoutable)
            {
                return false;
            }
        }

        return true;
    }

    private static ProxyError Unavailable(Rejection rejection) => ProxyError.Unavailable(rejection.Message, rejection.RetryAfter);

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failing over from backend {Backend}: {Cause}")]
    private static partial void LogFailover(ILogger logger, string backend, string cause);
}
