using System.Text;
using Corral.Usage;
using Npgsql;

namespace Corral.Storage;

/// <summary>
/// Usage in PostgreSQL: the tables of SQLite (<c>usage_names</c>, <c>usage_records</c>, <c>usage_hourly</c>) with the
/// same ids and histogram blobs, but a rollup row per writer (see <see cref="PostgresUsageWriteSession"/>); the sink
/// merges them as it merges the rows of different hours.
/// </summary>
internal sealed partial class PostgresStore : IUsageStore
{
    public IUsageWriteSession OpenUsageWriter() => new PostgresUsageWriteSession(CreateDedicatedConnection());

    public async Task ReadUsageRollupsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken)
    {
        var (group, detail) = grouping switch
        {
            UsageGrouping.Key => ("key_id", "key_name"),
            UsageGrouping.User => ("end_user", "0"),
            UsageGrouping.Backend => ("backend", "0"),
            UsageGrouping.Route => ("route", "0"),
            UsageGrouping.Status => ("status", "0"),
            UsageGrouping.Hour or UsageGrouping.Day => ("hour_ms", "0"),
            _ => ("model", "0"),
        };
        await using var command = _dataSource.CreateCommand($"""
            SELECT {group}::bigint, {detail}::bigint, hour_ms, requests, errors, prompt_tokens, completion_tokens, ttft_count, ttft_sum_us,
                ttft_histogram, duration_histogram
            FROM usage_hourly WHERE hour_ms >= $1 AND hour_ms < $2;
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from.ToUnixTimeMilliseconds() });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = to.ToUnixTimeMilliseconds() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ttft = new byte[256];
        var duration = new byte[256];
        while (await reader.ReadAsync(cancellationToken))
        {
            sink.AddRollup(
                reader.GetInt64(0),
                reader.GetInt64(1),
                reader.GetInt64(2),
                reader.GetInt64(3),
                reader.GetInt64(4),
                reader.GetInt64(5),
                reader.GetInt64(6),
                reader.GetInt64(7),
                reader.GetInt64(8),
                Blob(reader, 9, ref ttft),
                Blob(reader, 10, ref duration));
        }
    }

    public async Task ReadUsageRecordsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken)
    {
        var (group, detail) = grouping switch
        {
            UsageGrouping.Key => ("COALESCE(key_id, 0)", "COALESCE(key_name, 0)"),
            UsageGrouping.User => ("COALESCE(end_user, 0)", "0"),
            UsageGrouping.Backend => ("COALESCE(backend, 0)", "0"),
            UsageGrouping.Route => ("route", "0"),
            UsageGrouping.Status => ("status", "0"),
            UsageGrouping.Hour or UsageGrouping.Day => ("time_ms", "0"),
            // As in the rollups: the model routed to, else the one asked for.
            _ => ("COALESCE(resolved_model, model, 0)", "0"),
        };
        await using var command = _dataSource.CreateCommand($"""
            SELECT {group}::bigint, {detail}::bigint, time_ms, status, prompt_tokens, completion_tokens, ttft_us, duration_us
            FROM usage_records WHERE id >= $1 AND id < $2;
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = SqliteUsageWriteSession.IdOf(from) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = SqliteUsageWriteSession.IdOf(to) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sink.AddRecord(
                reader.GetInt64(0),
                reader.GetInt64(1),
                reader.GetInt64(2),
                reader.GetInt32(3),
                reader.GetInt32(4),
                reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetInt64(6) / 1000.0,
                reader.GetInt64(7) / 1000.0);
        }
    }

    public async Task<IReadOnlyDictionary<long, string>> UsageNamesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        var names = new Dictionary<long, string>();
        long[] wanted = [.. ids.Where(id => id > 0).Distinct()];
        if (wanted.Length == 0)
        {
            return names;
        }

        await using var command = _dataSource.CreateCommand("SELECT id, name FROM usage_names WHERE id = ANY($1);");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = wanted });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            names[reader.GetInt64(0)] = reader.GetString(1);
        }

        return names;
    }

    public async Task<IReadOnlyList<StoredUsageRecord>> ListUsageRecordsAsync(UsageRecordFilter filter, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        long? keyId = null;
        long? modelId = null;
        if (filter.Key is not null && (keyId = await FindNameAsync(connection, filter.Key, cancellationToken)) is null)
        {
            return [];
        }

        if (filter.Model is not null && (modelId = await FindNameAsync(connection, filter.Model, cancellationToken)) is null)
        {
            return [];
        }

        var sql = new StringBuilder(StoredRows.UsageRecordSelect).Append(" WHERE r.id >= $1 AND r.id < $2");
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = SqliteUsageWriteSession.IdOf(filter.From) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = SqliteUsageWriteSession.IdOf(filter.To) });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = filter.Limit });
        if (keyId is { } key)
        {
            sql.Append(" AND (r.key_id = $4 OR r.key_name = $4)");
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = key });
        }

        if (modelId is { } model)
        {
            var index = command.Parameters.Count + 1;
            sql.Append(System.Globalization.CultureInfo.InvariantCulture, $" AND (r.model = ${index} OR r.resolved_model = ${index})");
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = model });
        }

        sql.Append(" ORDER BY r.id DESC LIMIT $3;");
        command.CommandText = sql.ToString();

        var records = new List<StoredUsageRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(StoredRows.UsageRecord(reader));
        }

        return records;
    }

    private static async Task<long?> FindNameAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT id FROM usage_names WHERE name = $1;", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PostgresText.Clean(name) });
        return await command.ExecuteScalarAsync(cancellationToken) is long id ? id : null;
    }

    // A bytea column copied into buffer (grown when needed); valid until the next row.
    private static ReadOnlySpan<byte> Blob(NpgsqlDataReader reader, int ordinal, ref byte[] buffer)
    {
        var length = (int)reader.GetBytes(ordinal, 0, null, 0, 0);
        if (length == 0)
        {
            return [];
        }

        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }

        reader.GetBytes(ordinal, 0, buffer, 0, length);
        return buffer.AsSpan(0, length);
    }
}
