using Corral.Usage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Corral.Storage;

/// <summary>
/// The usage writer's own SQLite connection. Statements are prepared once and bound straight through SQLitePCL
/// (no <see cref="SqliteParameter"/> boxing per value): a record costs one insert of integers, its names are
/// looked up in memory, and a batch's records are added up per rollup row in C# first, so each rollup row a batch
/// touches is read and rewritten once per batch, not once per record (see bench/README.md for the figures).
/// </summary>
internal sealed class SqliteUsageWriteSession : IUsageWriteSession
{
    // A name cache that grew past this (clients may name any model or user) starts again from the table.
    private const int MaxCachedNames = 100_000;

    private const string InsertRecordSql = """
        INSERT INTO usage_records (time_ms, key_id, key_name, end_user, route, model, resolved_model, backend, status, error,
            prompt_tokens, completion_tokens, queue_us, ttft_us, duration_us, overhead_us, bytes_in, bytes_out, attempts, cancelled)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20);
        """;

    private const string RollupKeySql = "hour_ms = ?1 AND key_id = ?2 AND key_name = ?3 AND end_user = ?4 AND route = ?5 AND model = ?6 AND backend = ?7 AND status = ?8";

    private readonly SqliteConnection _connection;
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _insertRecord;
    private readonly sqlite3_stmt _selectRollup;
    private readonly sqlite3_stmt _replaceRollup;
    private readonly sqlite3_stmt _selectName;
    private readonly sqlite3_stmt _insertName;
    private readonly sqlite3_stmt _deleteRecords;
    private readonly sqlite3_stmt _deleteRollupHour;
    private readonly Dictionary<string, long> _names = new(StringComparer.Ordinal);
    private readonly List<string> _namesOfBatch = [];
    private readonly Dictionary<RollupKey, UsageTotals> _rollups = [];

    public SqliteUsageWriteSession(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        _db = _connection.Handle!;
        try
        {
            // WAL is a property of the database (set at start); synchronous is one of the connection. NORMAL in WAL
            // mode: a commit is safe from a crash of Corral, and only an OS crash or power loss can undo the last ones.
            Execute("PRAGMA synchronous = NORMAL;");
            // Another connection (a key being created) may hold the write lock for a moment.
            Check(raw.sqlite3_busy_timeout(_db, 5000));
            _insertRecord = Prepare(InsertRecordSql);
            _selectRollup = Prepare($"SELECT requests, errors, prompt_tokens, completion_tokens, ttft_histogram, duration_histogram FROM usage_hourly WHERE {RollupKeySql};");
            _replaceRollup = Prepare("""
                INSERT OR REPLACE INTO usage_hourly (hour_ms, key_id, key_name, end_user, route, model, backend, status,
                    requests, errors, prompt_tokens, completion_tokens, ttft_histogram, duration_histogram)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14);
                """);
            _selectName = Prepare("SELECT id FROM usage_names WHERE name = ?1;");
            _insertName = Prepare("INSERT INTO usage_names (name) VALUES (?1);");
            _deleteRecords = Prepare("DELETE FROM usage_records WHERE rowid IN (SELECT rowid FROM usage_records WHERE time_ms < ?1 ORDER BY time_ms LIMIT ?2);");
            _deleteRollupHour = Prepare("DELETE FROM usage_hourly WHERE hour_ms = (SELECT MIN(hour_ms) FROM usage_hourly) AND hour_ms < ?1;");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Write(IReadOnlyList<UsageRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        _rollups.Clear();
        _namesOfBatch.Clear();
        Execute("BEGIN IMMEDIATE;");
        try
        {
            for (var i = 0; i < records.Count; i++)
            {
                InsertRecord(records[i]);
            }

            foreach (var (key, totals) in _rollups)
            {
                WriteRollup(key, totals);
            }

            Execute("COMMIT;");
        }
        catch
        {
            Rollback();
            // The names inserted by this batch are gone with it.
            foreach (var name in _namesOfBatch)
            {
                _names.Remove(name);
            }

            throw;
        }
        finally
        {
            _rollups.Clear();
        }
    }

    public int DeleteRecordsBefore(DateTimeOffset before, int limit)
    {
        Bind(_deleteRecords, 1, before.ToUnixTimeMilliseconds());
        Bind(_deleteRecords, 2, limit);
        return Run(_deleteRecords);
    }

    public int DeleteOldestRollupHourBefore(DateTimeOffset before)
    {
        Bind(_deleteRollupHour, 1, before.ToUnixTimeMilliseconds());
        return Run(_deleteRollupHour);
    }

    public void Dispose()
    {
        _insertRecord?.Dispose();
        _selectRollup?.Dispose();
        _replaceRollup?.Dispose();
        _selectName?.Dispose();
        _insertName?.Dispose();
        _deleteRecords?.Dispose();
        _deleteRollupHour?.Dispose();
        _connection.Dispose();
    }

    /// <summary>Microseconds as stored, from milliseconds.</summary>
    internal static long Micros(double milliseconds) => double.IsFinite(milliseconds) ? (long)Math.Round(milliseconds * 1000) : 0;

    private void InsertRecord(UsageRecord record)
    {
        var time = record.Time.ToUnixTimeMilliseconds();
        var keyId = NameId(record.KeyId);
        var keyName = NameId(record.KeyName);
        var user = NameId(record.User);
        var route = NameId(record.Route);
        var model = NameId(record.Model);
        var resolved = NameId(record.ResolvedModel);
        var backend = NameId(record.Backend);

        var s = _insertRecord;
        Bind(s, 1, time);
        BindName(s, 2, keyId);
        BindName(s, 3, keyName);
        BindName(s, 4, user);
        Bind(s, 5, route);
        BindName(s, 6, model);
        BindName(s, 7, resolved);
        BindName(s, 8, backend);
        Bind(s, 9, record.Status);
        if (record.Error is null)
        {
            raw.sqlite3_bind_null(s, 10);
        }
        else
        {
            raw.sqlite3_bind_text16(s, 10, record.Error.AsSpan());
        }

        Bind(s, 11, record.PromptTokens);
        Bind(s, 12, record.CompletionTokens);
        Bind(s, 13, Micros(record.QueueMs));
        if (record.TtftMs is { } ttft)
        {
            Bind(s, 14, Micros(ttft));
        }
        else
        {
            raw.sqlite3_bind_null(s, 14);
        }

        Bind(s, 15, Micros(record.DurationMs));
        Bind(s, 16, Micros(record.OverheadMs));
        Bind(s, 17, record.BytesIn);
        Bind(s, 18, record.BytesOut);
        Bind(s, 19, record.Attempts);
        Bind(s, 20, record.Cancelled ? 1 : 0);
        Run(s);

        var key = new RollupKey(UsageHours.Floor(time), keyId, keyName, user, route, resolved != 0 ? resolved : model, backend, record.Status);
        if (!_rollups.TryGetValue(key, out var totals))
        {
            totals = new UsageTotals();
            _rollups.Add(key, totals);
        }

        totals.Add(record.Status, record.PromptTokens, record.CompletionTokens, record.TtftMs, record.DurationMs);
    }

    private void WriteRollup(RollupKey key, UsageTotals totals)
    {
        BindKey(_selectRollup, key);
        try
        {
            var rc = raw.sqlite3_step(_selectRollup);
            if (rc == raw.SQLITE_ROW)
            {
                totals.Add(
                    raw.sqlite3_column_int64(_selectRollup, 0),
                    raw.sqlite3_column_int64(_selectRollup, 1),
                    raw.sqlite3_column_int64(_selectRollup, 2),
                    raw.sqlite3_column_int64(_selectRollup, 3),
                    raw.sqlite3_column_blob(_selectRollup, 4),
                    raw.sqlite3_column_blob(_selectRollup, 5));
            }
            else if (rc != raw.SQLITE_DONE)
            {
                Check(rc);
            }
        }
        finally
        {
            raw.sqlite3_reset(_selectRollup);
        }

        var s = _replaceRollup;
        BindKey(s, key);
        Bind(s, 9, totals.Requests);
        Bind(s, 10, totals.Errors);
        Bind(s, 11, totals.PromptTokens);
        Bind(s, 12, totals.CompletionTokens);
        raw.sqlite3_bind_blob(s, 13, totals.Ttft.Encode());
        raw.sqlite3_bind_blob(s, 14, totals.Duration.Encode());
        Run(s);
    }

    // The id of a name in usage_names, 0 for none; new names are inserted within the batch's transaction.
    private long NameId(string? name)
    {
        if (name is null)
        {
            return 0;
        }

        if (_names.TryGetValue(name, out var id))
        {
            return id;
        }

        if (_names.Count >= MaxCachedNames)
        {
            _names.Clear();
        }

        raw.sqlite3_bind_text16(_selectName, 1, name.AsSpan());
        try
        {
            var rc = raw.sqlite3_step(_selectName);
            if (rc == raw.SQLITE_ROW)
            {
                id = raw.sqlite3_column_int64(_selectName, 0);
            }
            else
            {
                Check(rc);
            }
        }
        finally
        {
            raw.sqlite3_reset(_selectName);
        }

        if (id == 0)
        {
            raw.sqlite3_bind_text16(_insertName, 1, name.AsSpan());
            Run(_insertName);
            id = raw.sqlite3_last_insert_rowid(_db);
            _namesOfBatch.Add(name);
        }

        _names[name] = id;
        return id;
    }

    private static void BindKey(sqlite3_stmt s, RollupKey key)
    {
        Bind(s, 1, key.HourMs);
        Bind(s, 2, key.KeyId);
        Bind(s, 3, key.KeyName);
        Bind(s, 4, key.User);
        Bind(s, 5, key.Route);
        Bind(s, 6, key.Model);
        Bind(s, 7, key.Backend);
        Bind(s, 8, key.Status);
    }

    private static void Bind(sqlite3_stmt statement, int index, long value) => raw.sqlite3_bind_int64(statement, index, value);

    // In the records table a missing name is NULL; in the rollups (a primary key) it is 0.
    private static void BindName(sqlite3_stmt statement, int index, long id)
    {
        if (id == 0)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else
        {
            raw.sqlite3_bind_int64(statement, index, id);
        }
    }

    private int Run(sqlite3_stmt statement)
    {
        try
        {
            var rc = raw.sqlite3_step(statement);
            if (rc != raw.SQLITE_DONE)
            {
                Check(rc);
            }

            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    private sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out var statement));
        return statement;
    }

    private void Execute(string sql) => Check(raw.sqlite3_exec(_db, sql));

    private void Rollback()
    {
        // Fails harmlessly when SQLite already rolled the transaction back (a full disk does that).
        if (raw.sqlite3_get_autocommit(_db) == 0)
        {
            raw.sqlite3_exec(_db, "ROLLBACK;");
        }
    }

    private void Check(int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    private readonly record struct RollupKey(long HourMs, long KeyId, long KeyName, long User, long Route, long Model, long Backend, int Status);
}
