using Corral.Hosting;
using Corral.Storage;

namespace Corral.Admin;

/// <summary><c>GET /admin/api/audit?from=&amp;to=&amp;action=&amp;actor=&amp;limit=</c>: the admin actions, newest first.</summary>
internal sealed class AuditEndpoints(IAuditStore store)
{
    private const int DefaultLimit = 100;
    private const int MaxLimit = 10_000;
    private static readonly string[] s_parameters = ["from", "to", "action", "actor", "limit"];

    public async Task ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var problems = new List<string>();
        AdminQuery.UnknownParameters(query, s_parameters, problems);
        var from = AdminQuery.Time(query, "from", problems);
        var to = AdminQuery.Time(query, "to", problems);
        var limit = AdminQuery.Limit(query["limit"], DefaultLimit, MaxLimit, problems);
        if (problems.Count == 0 && from >= to)
        {
            problems.Add("from: must be before to");
        }

        if (problems.Count > 0)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));
            return;
        }

        var filter = new AuditFilter(from, to, AdminQuery.NonEmpty(query["action"]), AdminQuery.NonEmpty(query["actor"]), limit);
        var events = await store.ListAuditEventsAsync(filter, context.RequestAborted);
        var response = new AuditResponse([.. events.Select(e => new AuditEventResponse(e.Time.UtcDateTime, e.KeyId, e.KeyName, e.Address, e.Action, e.Target, e.Outcome))]);
        await context.Response.WriteAsJsonAsync(response, CorralJsonContext.Default.AuditResponse, cancellationToken: context.RequestAborted);
    }
}

/// <summary>Answer of <c>GET /admin/api/audit</c>.</summary>
internal sealed record AuditResponse(AuditEventResponse[] Events);

/// <summary>One admin action (<c>time</c> UTC; <c>outcome</c> is <c>ok</c>, or the status and why).</summary>
internal sealed record AuditEventResponse(DateTime Time, string? KeyId, string? KeyName, string? Address, string Action, string? Target, string Outcome);
