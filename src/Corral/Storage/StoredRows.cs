using System.Data.Common;

namespace Corral.Storage;

/// <summary>
/// Rows read back the same way from either store: the columns of a usage record and of an audit event, in the order
/// both stores select them (times unix ms, durations µs).
/// </summary>
internal static class StoredRows
{
    /// <summary>The usage records with their names, in the columns <see cref="UsageRecord"/> reads; each store adds its WHERE.</summary>
    public const string UsageRecordSelect = """
        SELECT r.time_ms, k.name, kn.name, u.name, ro.name, m.name, rm.name, b.name, r.status, r.error,
               r.prompt_tokens, r.completion_tokens, r.queue_us, r.ttft_us, r.duration_us, r.overhead_us,
               r.bytes_in, r.bytes_out, r.attempts, r.cancelled
        FROM usage_records r
        LEFT JOIN usage_names k ON k.id = r.key_id
        LEFT JOIN usage_names kn ON kn.id = r.key_name
        LEFT JOIN usage_names u ON u.id = r.end_user
        LEFT JOIN usage_names ro ON ro.id = r.route
        LEFT JOIN usage_names m ON m.id = r.model
        LEFT JOIN usage_names rm ON rm.id = r.resolved_model
        LEFT JOIN usage_names b ON b.id = r.backend
        """;

    /// <summary>A usage record from a row of <c>time_ms, key_id, key_name, end_user, route, model, resolved_model, backend, status, error, prompt_tokens, completion_tokens, queue_us, ttft_us, duration_us, overhead_us, bytes_in, bytes_out, attempts, cancelled</c>.</summary>
    public static StoredUsageRecord UsageRecord(DbDataReader reader) => new(
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)),
        Text(reader, 1),
        Text(reader, 2),
        Text(reader, 3),
        Text(reader, 4) ?? string.Empty,
        Text(reader, 5),
        Text(reader, 6),
        Text(reader, 7),
        reader.GetInt32(8),
        Text(reader, 9),
        reader.GetInt32(10),
        reader.GetInt32(11),
        reader.GetInt64(12) / 1000.0,
        reader.IsDBNull(13) ? null : reader.GetInt64(13) / 1000.0,
        reader.GetInt64(14) / 1000.0,
        reader.GetInt64(15) / 1000.0,
        reader.GetInt64(16),
        reader.GetInt64(17),
        reader.GetInt32(18),
        reader.GetBoolean(19));

    /// <summary>An audit event from a row of <c>time_ms, key_id, key_name, address, action, target, outcome</c>.</summary>
    public static AuditEvent AuditEvent(DbDataReader reader) => new(
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)),
        Text(reader, 1),
        Text(reader, 2),
        Text(reader, 3),
        reader.GetString(4),
        Text(reader, 5),
        reader.GetString(6));

    public static string? Text(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
