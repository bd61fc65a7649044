using Corral.Pipeline;
using Corral.Storage;

namespace Corral.Admin;

/// <summary>Endpoint metadata: requests to this endpoint are admin actions, recorded in the audit under <see cref="Action"/>.</summary>
internal sealed record AuditedAction(string Action);

/// <summary>
/// Records every admin action once its answer is over (refused ones too: a user key's 403, a bad body's 400): when,
/// which key, from which address, what, on what, and how it ended. Written before the request counts as finished,
/// so a graceful stop loses none; a store that fails is logged, never turned into an error for the client.
/// </summary>
internal sealed partial class AuditTrail(IAuditStore store, ILogger<AuditTrail> logger)
{
    public async Task RecordAsync(HttpContext context, RequestRecord record, AuditedAction action)
    {
        var status = context.Response.StatusCode;
        var failed = status >= 400 || record.Error is not null || record.Cancelled;
        var outcome = !failed ? "ok" : record.Cancelled && record.Error is null ? "cancelled: the client left" : $"{status} {record.Error ?? Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status)}";
        var audit = new AuditEvent(record.StartedAt, record.Caller?.KeyId, record.Caller?.KeyName, record.ClientAddress?.ToString(), action.Action, TargetOf(context, record), outcome);
        try
        {
            await store.AddAuditEventAsync(audit, CancellationToken.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogNotRecorded(logger, action.Action, e.Message);
        }
    }

    // What the action was on: the key or backend of the route, the one just created, or the model named in the body.
    private static string? TargetOf(HttpContext context, RequestRecord record)
    {
        var values = context.Request.RouteValues;
        if ((values.GetValueOrDefault("id") ?? values.GetValueOrDefault("name")) is string routed)
        {
            return routed;
        }

        if (context.Response.Headers.Location.ToString() is { Length: > 0 } location)
        {
            return Uri.UnescapeDataString(location[(location.LastIndexOf('/') + 1)..]);
        }

        return record.Model;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record the admin action {Action} in the audit: {Reason}")]
    private static partial void LogNotRecorded(ILogger logger, string action, string reason);
}
