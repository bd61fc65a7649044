using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Corral.Usage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Corral.Storage;

/// <summary>
/// Usage in SQLite: records (<c>usage_records</c>), their hourly rollups (<c>usage_hourly</c>) and the names both
/// refer to (<c>usage_names</c>). Reads that may go over many rows run on a pool thread, off the request's socket
/// thread, and step through SQLitePCL so that a blob is read in place.
/// </summary>
internal sealed partial class SqliteStore : IUsageStore
{
    // Rows read between two looks at the cancellation token.
    private const int RowsPerCancellationCheck = 4096;

    public IUsageWriteSession OpenUsageWriter() => new SqliteUsageWriteSession(DatabasePath);

    public Task ReadUsageRollupsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken)
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
        var sql = $"""
            SELECT {group}, {detail}, hour_ms, requests, errors, prompt_tokens, completion_tokens, ttft_count, ttft_sum_us,
                ttft_histogram, duration_histogram
            FROM usage_hourly WHERE hour_ms >= ?1 AND hour_ms < ?2;
            """;
        var ttft = new byte[256];
        var duration = new byte[256];
        return ReadAsync(sql, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds(), statement => sink.AddRollup(
            SqliteNative.ColumnInt64(statement, 0),
            SqliteNative.ColumnInt64(statement, 1),
            SqliteNative.ColumnInt64(statement, 2),
            SqliteNative.ColumnInt64(statement, 3),
            SqliteNative.ColumnInt64(statement, 4),
            SqliteNative.ColumnInt64(statement, 5),
            SqliteNative.ColumnInt64(statement, 6),
            SqliteNative.ColumnInt64(statement, 7),
            SqliteNative.ColumnInt64(statement, 8),
            Blob(statement, 9, ref ttft),
            Blob(statement, 10, ref duration)), cancellationToken);
    }

    public Task ReadUsageRecordsAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping, IUsageSink sink, CancellationToken cancellationToken)
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
        var sql = $"""
            SELECT {group}, {detail}, time_ms, status, prompt_tokens, completion_tokens, ttft_us, duration_us
            FROM usage_records WHERE id >= ?1 AND id < ?2;
            """;
        return ReadAsync(sql, SqliteUsageWriteSession.IdOf(from), SqliteUsageWriteSession.IdOf(to), statement => sink.AddRecord(
            SqliteNative.ColumnInt64(statement, 0),
            SqliteNative.ColumnInt64(statement, 1),
            SqliteNative.ColumnInt64(statement, 2),
            (int)SqliteNative.ColumnInt64(statement, 3),
            SqliteNative.ColumnInt64(statement, 4),
            SqliteNative.ColumnInt64(statement, 5),
            SqliteNative.ColumnType(statement, 6) == raw.SQLITE_NULL ? null : SqliteNative.ColumnInt64(statement, 6) / 1000.0,
            SqliteNative.ColumnInt64(statement, 7) / 1000.0), cancellationToken);
    }

    public async Task<IReadOnlyDictionary<long, string>> UsageNamesAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        var names = new Dictionary<long, string>();
        var wanted = ids.Where(id => id > 0).Distinct().ToArray();
        if (wanted.Length == 0)
        {
            return names;
        }

        await using var connection = await OpenAsync(cancellationToken);
        foreach (var chunk in wanted.Chunk(500))
        {
            await using var command = connection.CreateCommand();
            // Whole numbers only, so the list is written into the SQL rather than bound one by one.
            command.CommandText = $"SELECT id, name FROM usage_names WHERE id IN ({string.Join(',', chunk.Select(id => id.ToString(CultureInfo.InvariantCulture)))});";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                names[reader.GetInt64(0)] = reader.GetString(1);
            }
        }

        return names;
    }

    public Task<IReadOnlyList<StoredUsageRecord>> ListUsageRecordsAsync(UsageRecordFilter filter, CancellationToken cancellationToken) =>
        Task.Run<IReadOnlyList<StoredUsageRecord>>(() => ListUsageRecords(filter, cancellationToken), cancellationToken);

    private static List<StoredUsageRecord>? ListUsageRecordsOrNull(SqliteConnection connection, UsageRecordFilter filter, CancellationToken cancellationToken)
    {
        long? keyId = null;
        long? modelId = null;
        if (filter.Key is not null && (keyId = FindName(connection, filter.Key)) is null)
        {
            return null;
        }

        if (filter.Model is not null && (modelId = FindName(connection, filter.Model)) is null)
        {
            return null;
        }

        var sql = new StringBuilder(StoredRows.UsageRecordSelect).Append(" WHERE r.id >= $from AND r.id < $to");
        using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$from", SqliteUsageWriteSession.IdOf(filter.From));
        command.Parameters.AddWithValue("$to", SqliteUsageWriteSession.IdOf(filter.To));
        if (keyId is { } key)
        {
            sql.Append(" AND (r.key_id = $key OR r.key_name = $key)");
            command.Parameters.AddWithValue("$key", key);
        }

        if (modelId is { } model)
        {
            sql.Append(" AND (r.model = $model OR r.resolved_model = $model)");
            command.Parameters.AddWithValue("$model", model);
        }

        sql.Append(" ORDER BY r.id DESC LIMIT $limit;");
        command.Parameters.AddWithValue("$limit", filter.Limit);
        command.CommandText = sql.ToString();

        var records = new List<StoredUsageRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            cancellationToken.ThrowIfCancellationRequested();
            records.Add(StoredRows.UsageRecord(reader));
        }

        return records;
    }

    private List<StoredUsageRecord> ListUsageRecords(UsageRecordFilter filter, CancellationToken cancellationToken)
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return ListUsageRecordsOrNull(connection, filter, cancellationToken) ?? [];
    }

    private static long? FindName(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id FROM usage_names WHERE name = $name;";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteScalar() is long id ? id : null;
    }


    // Steps to the end, handing each row to onRow; returns SQLite's last result code. Optimised at once: it runs for
    // every row of a query, and the first query after start should not be the slowest.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int StepRows(nint statement, Action<nint> onRow, CancellationToken cancellationToken)
    {
        int rc;
        var rows = 0;
        while ((rc = SqliteNative.Step(statement)) == raw.SQLITE_ROW)
        {
            onRow(statement);
            if (++rows % RowsPerCancellationCheck == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        return rc;
    }

    // A blob column copied into buffer (grown when needed); valid until the next row.
    private static ReadOnlySpan<byte> Blob(nint statement, int column, ref byte[] buffer)
    {
        var length = SqliteNative.ColumnBytes(statement, column);
        if (length == 0)
        {
            return [];
        }

        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }

        Marshal.Copy(SqliteNative.ColumnBlob(statement, column), buffer, 0, length);
        return buffer.AsSpan(0, length);
    }

    // Steps through a query of the range [from, to) (of ?1 and ?2) on a pool thread, handing each row to onRow, on a
    // read-only connection of its own without SQLite's mutex (only this thread uses it).
    private Task ReadAsync(string sql, long from, long to, Action<nint> onRow, CancellationToken cancellationToken) => Task.Run(
        () =>
        {
            var rc = raw.sqlite3_open_v2(DatabasePath, out var db, raw.SQLITE_OPEN_READONLY | raw.SQLITE_OPEN_NOMUTEX, null);
            using (db)
            {
                SqliteException.ThrowExceptionForRC(rc, db);
                raw.sqlite3_busy_timeout(db, 5000);
                // Read through a memory map rather than a read() per page: a month of rollups is tens of MB.
                raw.sqlite3_exec(db, "PRAGMA mmap_size = 1073741824;");
                rc = raw.sqlite3_prepare_v2(db, sql, out var statement);
                SqliteException.ThrowExceptionForRC(rc, db);
                using (statement)
                {
                    raw.sqlite3_bind_int64(statement, 1, from);
                    raw.sqlite3_bind_int64(statement, 2, to);
                    SqliteException.ThrowExceptionForRC(StepRows(statement.DangerousGetHandle(), onRow, cancellationToken), db);
                }
            }
        },
        cancellationToken);
}
