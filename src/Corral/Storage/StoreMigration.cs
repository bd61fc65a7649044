using Corral.Usage;

namespace Corral.Storage;

/// <summary>
/// Moves a Corral from its embedded SQLite store to PostgreSQL (<c>corral migrate</c>), into a database that holds
/// no Corral data yet: the keys (their hashes, allow-lists, limits, expiry, last use: clients keep their keys, since
/// no secret is ever stored), the backends and presets added through the admin API, the audit trail and the usage
/// records. The hourly rollups are made again from the records as they are written, so hours older than the
/// records kept (<c>--usage-retention</c>) are not carried over. The source is brought to the current schema, as
/// Corral does at start, and otherwise only read.
/// </summary>
internal sealed class StoreMigration(SqliteStore source, PostgresStore target, TimeProvider time, TextWriter progress, int usagePage = StoreMigration.UsagePage)
{
    /// <summary>Usage records read and written at a time.</summary>
    internal const int UsagePage = 5000;

    /// <summary>Copies everything; what the target already held when it is not empty (then nothing is copied).</summary>
    public async Task<(MigrationCounts? Counts, string? Problem)> RunAsync(CancellationToken cancellationToken)
    {
        await source.InitializeAsync(cancellationToken);
        await target.InitializeAsync(cancellationToken);
        if (await HoldingsAsync(cancellationToken) is { } held)
        {
            return (null, $"the PostgreSQL database already holds Corral data ({held}); migrate into an empty one");
        }

        var keys = await source.ListKeysAsync(cancellationToken);
        foreach (var key in keys)
        {
            // A key is added as a new one is: its revocation is a change of its own.
            await target.AddKeyAsync(key, cancellationToken);
            if (key.RevokedAt is { } revoked)
            {
                await target.RevokeKeyAsync(key.Id, revoked, cancellationToken);
            }
        }

        await target.RecordKeyUseAsync([.. keys.Where(k => k.LastUsedAt is not null).Select(k => (k.Id, k.LastUsedAt!.Value))], cancellationToken);
        await progress.WriteLineAsync($"keys: {keys.Count}");

        var backends = await source.ListBackendsAsync(cancellationToken);
        foreach (var backend in backends)
        {
            await target.SaveBackendAsync(backend, cancellationToken);
        }

        await progress.WriteLineAsync($"backends added through the admin API: {backends.Count}");

        var presets = await source.ListPresetsAsync(cancellationToken);
        foreach (var preset in presets)
        {
            await target.SavePresetAsync(preset, cancellationToken);
        }

        await progress.WriteLineAsync($"presets added through the admin API: {presets.Count}");

        var audit = await source.ListAuditEventsAsync(new AuditFilter(null, null, null, null, int.MaxValue), cancellationToken);
        foreach (var entry in audit.OrderBy(a => a.Time))
        {
            await target.AddAuditEventAsync(entry, cancellationToken);
        }

        await progress.WriteLineAsync($"audit events: {audit.Count}");
        var usage = await CopyUsageAsync(cancellationToken);
        return (new MigrationCounts(keys.Count, backends.Count, presets.Count, audit.Count, usage), null);
    }

    // The newest records first, a page at a time. A page ends before the millisecond of its oldest record, which the
    // next page starts with, so that records of the same millisecond are not split between pages (and lost); only a
    // page that is all one millisecond (5,000 requests in it) is taken as it is.
    private async Task<long> CopyUsageAsync(CancellationToken cancellationToken)
    {
        long copied = 0;
        var before = time.GetUtcNow().AddDays(1);
        using var writer = target.OpenUsageWriter();
        while (true)
        {
            var page = await source.ListUsageRecordsAsync(new UsageRecordFilter(DateTimeOffset.UnixEpoch, before, null, null, usagePage), cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            var oldest = page[^1].Time;
            var whole = page.Count < usagePage || page[0].Time == oldest;
            var records = whole ? page : [.. page.Where(r => r.Time > oldest)];
            writer.Write([.. records.Select(Record)]);
            copied += records.Count;
            await progress.WriteLineAsync($"usage records: {copied} (back to {records[^1].Time.UtcDateTime:yyyy-MM-dd HH:mm})");
            if (page.Count < usagePage)
            {
                break;
            }

            before = whole ? oldest : oldest.AddMilliseconds(1);
        }

        return copied;
    }

    private async Task<string?> HoldingsAsync(CancellationToken cancellationToken)
    {
        var held = new List<string>();
        if ((await target.ListKeysAsync(cancellationToken)).Count is var keys and > 0)
        {
            held.Add($"{keys} keys");
        }

        if ((await target.ListBackendsAsync(cancellationToken)).Count is var backends and > 0)
        {
            held.Add($"{backends} backends");
        }

        if ((await target.ListPresetsAsync(cancellationToken)).Count is var presets and > 0)
        {
            held.Add($"{presets} presets");
        }

        if ((await target.ListAuditEventsAsync(new AuditFilter(null, null, null, null, 1), cancellationToken)).Count > 0)
        {
            held.Add("audit events");
        }

        if ((await target.ListUsageRecordsAsync(new UsageRecordFilter(DateTimeOffset.UnixEpoch, time.GetUtcNow().AddDays(1), null, null, 1), cancellationToken)).Count > 0)
        {
            held.Add("usage records");
        }

        return held.Count == 0 ? null : string.Join(", ", held);
    }

    private static UsageRecord Record(StoredUsageRecord r) => new()
    {
        Time = r.Time,
        KeyId = r.KeyId,
        KeyName = r.KeyName,
        User = r.User,
        Route = r.Route,
        Model = r.Model,
        ResolvedModel = r.ResolvedModel,
        Backend = r.Backend,
        Status = r.Status,
        Error = r.Error,
        PromptTokens = r.PromptTokens,
        CompletionTokens = r.CompletionTokens,
        QueueMs = r.QueueMs,
        TtftMs = r.TtftMs,
        DurationMs = r.DurationMs,
        OverheadMs = r.OverheadMs,
        BytesIn = r.BytesIn,
        BytesOut = r.BytesOut,
        Attempts = r.Attempts,
        Cancelled = r.Cancelled,
    };
}

/// <summary>What <see cref="StoreMigration"/> copied.</summary>
internal sealed record MigrationCounts(int Keys, int Backends, int Presets, int AuditEvents, long UsageRecords);
