using System.Globalization;
using Corral.Hosting;
using Corral.Storage;
using Corral.Usage;
using Microsoft.Extensions.Primitives;

namespace Corral.Admin;

/// <summary>
/// Usage under <c>/admin/api/usage</c>: requests added up per group over a range of time, and the records
/// themselves, newest first; as JSON or, with <c>format=csv</c>, as CSV with a header row.
/// </summary>
internal sealed class UsageEndpoints(UsageReport report, IUsageStore store, TimeProvider time)
{
    /// <summary>Records answered when the query gives no <c>limit</c>.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The largest <c>limit</c> accepted.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>The range when the query gives no <c>from</c>: the day before <c>to</c>.</summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromHours(24);

    private static readonly string[] s_usageParameters = ["from", "to", "groupBy", "format"];
    private static readonly string[] s_requestParameters = ["from", "to", "key", "model", "limit", "format"];
    private static readonly string[] s_groupings = ["key", "user", "model", "backend", "route", "status", "hour", "day"];
    private static readonly string[] s_buckets = ["hour", "day"];

    public async Task UsageAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var problems = new List<string>();
        AdminQuery.UnknownParameters(query, s_usageParameters, problems);
        var (from, to) = Range(query, problems);
        var (grouping, bucket) = Grouping(query["groupBy"], problems);
        var csv = IsCsv(query, problems);
        if (problems.Count > 0)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));
            return;
        }

        var groups = await report.QueryAsync(from, to, grouping, bucket, context.RequestAborted);
        if (csv)
        {
            var writer = new CsvWriter();
            if (bucket is not null)
            {
                writer.Field("time");
            }

            writer.Field("group");
            if (grouping == UsageGrouping.Key)
            {
                writer.Field("keyName");
            }

            writer.Row("requests", "errors", "promptTokens", "completionTokens", "totalTokens", "ttftMsP50", "durationMsP50", "ttftMsAvg");
            foreach (var group in groups)
            {
                if (bucket is not null)
                {
                    writer.Field(group.Time);
                }

                writer.Field(group.Group);
                if (grouping == UsageGrouping.Key)
                {
                    writer.Field(group.KeyName);
                }

                writer.Field(group.Requests).Field(group.Errors).Field(group.PromptTokens).Field(group.CompletionTokens)
                    .Field(group.TotalTokens).Field(group.TtftMsP50).Field(group.DurationMsP50).Field(group.TtftMsAvg).EndRow();
            }

            await WriteCsvAsync(context, writer);
            return;
        }

        var response = new UsageResponse(
            from.UtcDateTime,
            to.UtcDateTime,
            bucket is { } per ? GroupingName(per) + "," + GroupingName(grouping) : GroupingName(grouping),
            [.. groups.Select(g => new UsageGroupResponse(
                g.Time, g.Group, g.KeyName, g.Requests, g.Errors, g.PromptTokens, g.CompletionTokens, g.TotalTokens, g.TtftMsP50, g.DurationMsP50, g.TtftMsAvg))]);
        await context.Response.WriteAsJsonAsync(response, CorralJsonContext.Default.UsageResponse, cancellationToken: context.RequestAborted);
    }

    public async Task RequestsAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var problems = new List<string>();
        AdminQuery.UnknownParameters(query, s_requestParameters, problems);
        var (from, to) = Range(query, problems);
        var limit = AdminQuery.Limit(query["limit"], DefaultLimit, MaxLimit, problems);
        var csv = IsCsv(query, problems);
        if (problems.Count > 0)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));
            return;
        }

        var filter = new UsageRecordFilter(from, to, AdminQuery.NonEmpty(query["key"]), AdminQuery.NonEmpty(query["model"]), limit);
        var records = await store.ListUsageRecordsAsync(filter, context.RequestAborted);
        if (csv)
        {
            var writer = new CsvWriter().Row(
                "time", "keyId", "keyName", "user", "route", "model", "resolvedModel", "backend", "status", "error", "promptTokens",
                "completionTokens", "queueMs", "ttftMs", "durationMs", "overheadMs", "bytesIn", "bytesOut", "attempts", "cancelled");
            foreach (var r in records)
            {
                writer.Field(r.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))
                    .Field(r.KeyId).Field(r.KeyName).Field(r.User).Field(r.Route).Field(r.Model).Field(r.ResolvedModel).Field(r.Backend)
                    .Field(r.Status).Field(r.Error).Field(r.PromptTokens).Field(r.CompletionTokens).Field(r.QueueMs).Field(r.TtftMs)
                    .Field(r.DurationMs).Field(r.OverheadMs).Field(r.BytesIn).Field(r.BytesOut).Field(r.Attempts).Field(r.Cancelled)
                    .EndRow();
            }

            await WriteCsvAsync(context, writer);
            return;
        }

        var response = new UsageRequestsResponse([.. records.Select(r => new UsageRequestResponse(
            r.Time.UtcDateTime, r.KeyId, r.KeyName, r.User, r.Route, r.Model, r.ResolvedModel, r.Backend, r.Status, r.Error,
            r.PromptTokens, r.CompletionTokens, r.QueueMs, r.TtftMs, r.DurationMs, r.OverheadMs, r.BytesIn, r.BytesOut, r.Attempts, r.Cancelled))]);
        await context.Response.WriteAsJsonAsync(response, CorralJsonContext.Default.UsageRequestsResponse, cancellationToken: context.RequestAborted);
    }

    private static string GroupingName(UsageGrouping grouping) => grouping.ToString().ToLowerInvariant();

    private static Task WriteCsvAsync(HttpContext context, CsvWriter writer)
    {
        context.Response.ContentType = "text/csv; charset=utf-8";
        return context.Response.WriteAsync(writer.ToString(), context.RequestAborted);
    }

    private (DateTimeOffset From, DateTimeOffset To) Range(IQueryCollection query, List<string> problems)
    {
        var to = AdminQuery.Time(query, "to", problems) ?? time.GetUtcNow();
        var from = AdminQuery.Time(query, "from", problems) ?? to - DefaultRange;
        // Records are kept to the millisecond.
        from = DateTimeOffset.FromUnixTimeMilliseconds(from.ToUnixTimeMilliseconds());
        to = DateTimeOffset.FromUnixTimeMilliseconds(to.ToUnixTimeMilliseconds());
        if (problems.Count == 0 && from >= to)
        {
            problems.Add($"from: must be before to ({Format(from)} is not before {Format(to)})");
        }

        return (from, to);
    }

    /// <summary>
    /// <c>groupBy</c>: one grouping (<c>model</c>, <c>hour</c>, ...), or a time bucket and a value together
    /// (<c>hour,model</c>, in either order), which gives the grouping and the bucket.
    /// </summary>
    private static (UsageGrouping Grouping, UsageGrouping? Bucket) Grouping(StringValues values, List<string> problems)
    {
        if (AdminQuery.NonEmpty(values) is not { } text)
        {
            return (UsageGrouping.Model, null);
        }

        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var unknown = parts.Where(p => !s_groupings.Contains(p, StringComparer.OrdinalIgnoreCase)).ToArray();
        if (unknown.Length > 0)
        {
            problems.Add($"groupBy: '{string.Join(",", unknown)}' is not one of {string.Join(", ", s_groupings)}");
            return (UsageGrouping.Model, null);
        }

        var buckets = parts.Where(p => s_buckets.Contains(p, StringComparer.OrdinalIgnoreCase)).ToArray();
        var dimensions = parts.Except(buckets, StringComparer.OrdinalIgnoreCase).ToArray();
        switch (parts.Length, buckets.Length)
        {
            case (1, _):
                return (Enum.Parse<UsageGrouping>(parts[0], ignoreCase: true), null);
            case (2, 1) when dimensions.Length == 1:
                return (Enum.Parse<UsageGrouping>(dimensions[0], ignoreCase: true), Enum.Parse<UsageGrouping>(buckets[0], ignoreCase: true));
            default:
                problems.Add($"groupBy: '{text}' cannot be grouped by; give one grouping ({string.Join(", ", s_groupings)}), "
                    + $"or one time bucket (hour or day) and one of {string.Join(", ", s_groupings.Except(s_buckets))} together, like hour,model");
                return (UsageGrouping.Model, null);
        }
    }

    private static bool IsCsv(IQueryCollection query, List<string> problems)
    {
        switch (AdminQuery.NonEmpty(query["format"])?.ToLowerInvariant())
        {
            case null or "json":
                return false;
            case "csv":
                return true;
            default:
                problems.Add($"format: '{query["format"]}' is not json or csv");
                return false;
        }
    }

    private static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFF'Z'", CultureInfo.InvariantCulture);

}
