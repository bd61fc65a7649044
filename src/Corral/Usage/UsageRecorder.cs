using Corral.Access;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Usage;

/// <summary>
/// The end of every surface request: turns its <see cref="RequestRecord"/> into a <see cref="UsageRecord"/> and
/// hands it to each <see cref="IUsageObserver"/> (the store, the metrics, the request log). Runs on the request's
/// thread; observers only queue or count, so this costs a record and a few calls.
/// </summary>
internal sealed partial class UsageRecorder(IEnumerable<IUsageObserver> observers, CorralSettings settings, TimeProvider time, ILogger<UsageRecorder> logger)
{
    /// <summary>The status recorded for a client that left before any answer was sent (nginx's "client closed request").</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>Longer model names (as asked) are cut: they come from the client and end up in the store and the logs.</summary>
    public const int MaxModelLength = 256;

    private readonly IUsageObserver[] _observers = [.. observers];

    /// <summary>Whether prompts and answers are kept for the request log.</summary>
    public bool KeepsBodies => settings.LogBodies && settings.RequestLog != RequestLogFormat.Off;

    /// <summary>Charges the request's tokens to its key's rates, builds its usage record and gives it to every observer.</summary>
    public void Complete(HttpContext context, RequestRecord record)
    {
        // Limits charge the tokens the answer's final line reported, whether or not anything records them.
        record.Caller?.State?.Charge((long)record.PromptTokens + record.CompletionTokens);
        if (_observers.Length == 0)
        {
            // Usage, metrics and the request log are all off: nobody would read the record.
            return;
        }

        var response = context.Response;
        var cancelled = record.Cancelled || (context.RequestAborted.IsCancellationRequested && !response.HasStarted);
        var end = time.GetTimestamp();
        var caller = record.Caller ?? context.Features.Get<Caller>();
        var usage = new UsageRecord
        {
            Time = record.StartedAt,
            KeyId = caller?.KeyId,
            KeyName = caller?.KeyName,
            User = EndUser.Of(context.Request, caller, record.ClaimedUser),
            Route = record.Route,
            Model = record.Model is { Length: > MaxModelLength } asked ? asked[..MaxModelLength] : record.Model,
            ResolvedModel = record.ResolvedModel,
            Backend = record.Backend?.Name,
            Status = cancelled && !response.HasStarted ? ClientClosedRequest : response.StatusCode,
            Error = record.Error,
            PromptTokens = record.PromptTokens,
            CompletionTokens = record.CompletionTokens,
            QueueMs = record.QueueWait.TotalMilliseconds,
            TtftMs = record.FirstByteSent is { } first ? time.GetElapsedTime(record.Started, first).TotalMilliseconds : null,
            DurationMs = time.GetElapsedTime(record.Started, end).TotalMilliseconds,
            OverheadMs = Overhead(record, end).TotalMilliseconds,
            BytesIn = record.BytesIn > 0 ? record.BytesIn : context.Request.ContentLength ?? 0,
            BytesOut = record.BytesOut > 0 ? record.BytesOut : response.ContentLength ?? 0,
            Attempts = record.Attempts,
            Cancelled = cancelled,
            FailedOver = record.FailedOver is { } failed ? failed : [],
            RequestBody = record.RequestBody,
            ResponseText = record.ResponseText,
        };

        foreach (var observer in _observers)
        {
            try
            {
                observer.Observe(usage);
            }
            catch (Exception e)
            {
                // An observer's bug must not fail the request or starve the others of the record.
                LogObserverFailed(logger, e, observer.GetType().Name);
            }
        }
    }

    /// <summary>Time spent in Corral itself up to <paramref name="now"/>: the total less the queue wait and the backends' time.</summary>
    public TimeSpan Overhead(RequestRecord record, long now)
    {
        var overhead = time.GetElapsedTime(record.Started, now) - record.QueueWait - record.BackendWait;
        return overhead > TimeSpan.Zero ? overhead : TimeSpan.Zero;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The usage observer {Observer} failed on a record")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception, string observer);
}
