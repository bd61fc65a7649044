using Corral.Usage;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Corral.Storage;

/// <summary>
/// The usage writer's own SQLite connection, opened without SQLite's mutex (one thread at a time uses it).
/// Statements are prepared once and reused for every batch, and values are bound straight into the library
/// (<see cref="SqliteNative"/>), never boxed into a <see cref="SqliteParameter"/>. Records go in
/// <see cref="RowsPerInsert"/> at a time into a table kept in time order by its id (no second index to update); their
/// names are looked up in memory; and a batch's records are added up per rollup row in C# first, while the rollup
/// rows of the newest hours stay in memory, so each rollup row a batch touches costs one update, and is read from the
/// table only the first time. Where the time goes is in bench/README.md.
/// </summary>
internal sealed class SqliteUsageWriteSession : IUsageWriteSession
{
    /// <summary>Records inserted by one statement: fewer statement runs for the same rows.</summary>
    public const int RowsPerInsert = 32;

    // A name cache that grew past this (clients may name any model or user) starts again from the table.
    private const int MaxCachedNames = 10_000;

    // Rollup rows kept in memory: those of the newest hours (late records are usually minutes late), at most this many.
    private const int MaxCachedRollups = 200_000;
    private const long CachedRollupHours = 2;

    // A record's id: its time in ms shifted by this, plus a sequence number (the usage migration of SqliteStore).
    private const int SequenceBits = 20;
    private const long SequenceMask = (1L << SequenceBits) - 1;
    private const int RecordColumns = 21;

    // The record's columns that hold a name (usage_names ids), in the order of _previousNames.
    private const int NameColumns = 7;

    private const string RecordColumnList = """
        id, time_ms, key_id, key_name, end_user, route, model, resolved_model, backend, status, error, prompt_tokens,
        completion_tokens, queue_us, ttft_us, duration_us, overhead_us, bytes_in, bytes_out, attempts, cancelled
        """;

    private const string RollupKeySql = "hour_ms = ?1 AND key_id = ?2 AND key_name = ?3 AND end_user = ?4 AND route = ?5 AND model = ?6 AND backend = ?7 AND status = ?8";

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _insertRecord;
    private readonly sqlite3_stmt _insertRecords;
    private readonly sqlite3_stmt _selectRollup;
    private readonly sqlite3_stmt _insertRollup;
    private readonly sqlite3_stmt _updateRollup;
    private readonly sqlite3_stmt _selectName;
    private readonly sqlite3_stmt _insertName;
    private readonly sqlite3_stmt _deleteRecords;
    private readonly sqlite3_stmt _deleteRollupHour;
    private readonly Dictionary<string, long> _names = new(StringComparer.Ordinal);
    private readonly List<string> _namesOfBatch = [];

    // In front of _names, the previous record's name and its id, column by column: consecutive records mostly share
    // them (a key's, a route's, a catalog id: the very same string objects), and a reference comparison finds them
    // without hashing their characters.
    private readonly NameSlot[] _previousNames = new NameSlot[NameColumns];
    private readonly Dictionary<RollupKey, UsageTotals> _batchRollups = [];
    private readonly Dictionary<RollupKey, UsageTotals> _cachedRollups = [];
    private readonly List<RollupKey> _expired = [];
    private RollupKey _previousRollupKey;
    private UsageTotals? _previousRollup;
    private byte[] _blob = new byte[256];
    private long _newestHour;
    private long _sequence;

    /// <summary>Opens <paramref name="databasePath"/>, whose schema <see cref="SqliteStore.InitializeAsync"/> made.</summary>
    public SqliteUsageWriteSession(string databasePath)
    {
        var rc = raw.sqlite3_open_v2(databasePath, out _db, raw.SQLITE_OPEN_READWRITE | raw.SQLITE_OPEN_NOMUTEX, null);
        try
        {
            Check(rc);
            Check(raw.sqlite3_extended_result_codes(_db, 1));
            // Another connection (a key being created, a checkpoint) may hold a lock for a moment.
            Check(raw.sqlite3_busy_timeout(_db, 5000));
            // WAL is a property of the database (set at start); synchronous is one of the connection. NORMAL in WAL
            // mode: a commit is safe from a crash of Corral, and only an OS crash or power loss can undo the last ones.
            Execute("PRAGMA synchronous = NORMAL;");
            _insertRecord = Prepare($"INSERT INTO usage_records ({RecordColumnList}) VALUES {Placeholders(1)};");
            _insertRecords = Prepare($"INSERT INTO usage_records ({RecordColumnList}) VALUES {Placeholders(RowsPerInsert)};");
            _selectRollup = Prepare($"SELECT requests, errors, prompt_tokens, completion_tokens, ttft_count, ttft_sum_us, ttft_histogram, duration_histogram FROM usage_hourly WHERE {RollupKeySql};");
            _insertRollup = Prepare("""
                INSERT INTO usage_hourly (hour_ms, key_id, key_name, end_user, route, model, backend, status,
                    requests, errors, prompt_tokens, completion_tokens, ttft_histogram, duration_histogram, ttft_count, ttft_sum_us)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16);
                """);
            _updateRollup = Prepare($"""
                UPDATE usage_hourly SET requests = ?9, errors = ?10, prompt_tokens = ?11, completion_tokens = ?12,
                    ttft_histogram = ?13, duration_histogram = ?14, ttft_count = ?15, ttft_sum_us = ?16
                WHERE {RollupKeySql};
                """);
            _selectName = Prepare("SELECT id FROM usage_names WHERE name = ?1;");
            _insertName = Prepare("INSERT INTO usage_names (name) VALUES (?1);");
            _deleteRecords = Prepare("DELETE FROM usage_records WHERE id IN (SELECT id FROM usage_records WHERE id < ?1 ORDER BY id LIMIT ?2);");
            _deleteRollupHour = Prepare("DELETE FROM usage_hourly WHERE hour_ms = (SELECT MIN(hour_ms) FROM usage_hourly) AND hour_ms < ?1;");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The sequence number of the next record's id (tests set it to make two ids collide).</summary>
    internal long NextSequence
    {
        get => _sequence;
        set => _sequence = value;
    }

    /// <summary>
    /// The first record id of a time; the records of [from, to) are those of ids [IdOf(from), IdOf(to)). Times past
    /// the year 2248, which ids cannot hold, are taken as that year (a query's "to" may be far in the future).
    /// </summary>
    internal static long IdOf(DateTimeOffset time) => Math.Clamp(time.ToUnixTimeMilliseconds(), 0, long.MaxValue >> SequenceBits) << SequenceBits;

    /// <summary>Microseconds as stored, from milliseconds.</summary>
    internal static long Micros(double milliseconds) => double.IsFinite(milliseconds) ? (long)Math.Round(milliseconds * 1000) : 0;

    public void Write(IReadOnlyList<UsageRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        _batchRollups.Clear();
        _previousRollup = null;
        _namesOfBatch.Clear();
        Execute("BEGIN IMMEDIATE;");
        try
        {
            var i = 0;
            for (; i + RowsPerInsert <= records.Count; i += RowsPerInsert)
            {
                InsertRecords(records, i);
            }

            for (; i < records.Count; i++)
            {
                BindRecord(_insertRecord, 0, records[i]);
                InsertOne(records[i].Time.ToUnixTimeMilliseconds());
            }

            foreach (var (key, delta) in _batchRollups)
            {
                WriteRollup(key, delta);
            }

            Execute("COMMIT;");
        }
        catch
        {
            Rollback();
            // The names inserted by this batch are gone with it, and the rollup rows in memory may hold its counts.
            foreach (var name in _namesOfBatch)
            {
                _names.Remove(name);
            }

            Array.Clear(_previousNames);
            _cachedRollups.Clear();
            throw;
        }
        finally
        {
            _batchRollups.Clear();
        }
    }

    public int DeleteRecordsBefore(DateTimeOffset before, int limit)
    {
        raw.sqlite3_bind_int64(_deleteRecords, 1, IdOf(before));
        raw.sqlite3_bind_int64(_deleteRecords, 2, limit);
        return Run(_deleteRecords);
    }

    public int DeleteOldestRollupHourBefore(DateTimeOffset before)
    {
        raw.sqlite3_bind_int64(_deleteRollupHour, 1, before.ToUnixTimeMilliseconds());
        return Run(_deleteRollupHour);
    }

    public void Dispose()
    {
        _insertRecord?.Dispose();
        _insertRecords?.Dispose();
        _selectRollup?.Dispose();
        _insertRollup?.Dispose();
        _updateRollup?.Dispose();
        _selectName?.Dispose();
        _insertName?.Dispose();
        _deleteRecords?.Dispose();
        _deleteRollupHour?.Dispose();
        _db?.Dispose();
    }

    private static string Placeholders(int rows)
    {
        var rowsSql = new string[rows];
        for (var row = 0; row < rows; row++)
        {
            rowsSql[row] = "(" + string.Join(", ", Enumerable.Range((row * RecordColumns) + 1, RecordColumns).Select(n => "?" + n)) + ")";
        }

        return string.Join(", ", rowsSql);
    }

    // RowsPerInsert records from records[start] in one statement; should one id be taken, the same records one by one.
    private void InsertRecords(IReadOnlyList<UsageRecord> records, int start)
    {
        var statement = _insertRecords.DangerousGetHandle();
        for (var row = 0; row < RowsPerInsert; row++)
        {
            var record = records[start + row];
            var offset = row * RecordColumns;
            BindRecord(_insertRecords, offset, record);
            SqliteNative.BindInt64(statement, offset + 1, NextId(record.Time.ToUnixTimeMilliseconds()));
        }

        var rc = SqliteNative.Step(statement);
        SqliteNative.Reset(statement);
        if (rc == raw.SQLITE_DONE)
        {
            return;
        }

        if (rc != raw.SQLITE_CONSTRAINT_PRIMARYKEY)
        {
            Check(rc);
        }

        // Nothing of the statement was kept; its records go one at a time, each with its own retries.
        for (var row = 0; row < RowsPerInsert; row++)
        {
            BindRecord(_insertRecord, 0, records[start + row], addToRollups: false);
            InsertOne(records[start + row].Time.ToUnixTimeMilliseconds());
        }
    }

    // Inserts the record bound to _insertRecord with the first free id of its time.
    private void InsertOne(long time)
    {
        var statement = _insertRecord.DangerousGetHandle();
        for (var attempt = 0; ; attempt++)
        {
            SqliteNative.BindInt64(statement, 1, NextId(time));
            var rc = SqliteNative.Step(statement);
            SqliteNative.Reset(statement);
            if (rc == raw.SQLITE_DONE)
            {
                return;
            }

            if (rc != raw.SQLITE_CONSTRAINT_PRIMARYKEY || attempt >= 64)
            {
                Check(rc);
            }
        }
    }

    // The id of a record: its time and the next sequence number. Two records of the same millisecond written a
    // multiple of 2^20 records apart (one of them a long stream) collide; the insert then takes the next number.
    private long NextId(long time) => (time << SequenceBits) | (_sequence++ & SequenceMask);

    // Binds every column but the id (offset + 1) and adds the record to its rollup row of the batch.
    private void BindRecord(sqlite3_stmt statement, int offset, UsageRecord record, bool addToRollups = true)
    {
        var s = statement.DangerousGetHandle();
        var time = record.Time.ToUnixTimeMilliseconds();
        var keyId = NameId(0, record.KeyId);
        var keyName = NameId(1, record.KeyName);
        var user = NameId(2, record.User);
        var route = NameId(3, record.Route);
        var model = NameId(4, record.Model);
        var resolved = NameId(5, record.ResolvedModel);
        var backend = NameId(6, record.Backend);

        SqliteNative.BindInt64(s, offset + 2, time);
        BindName(s, offset + 3, keyId);
        BindName(s, offset + 4, keyName);
        BindName(s, offset + 5, user);
        SqliteNative.BindInt64(s, offset + 6, route);
        BindName(s, offset + 7, model);
        BindName(s, offset + 8, resolved);
        BindName(s, offset + 9, backend);
        SqliteNative.BindInt64(s, offset + 10, record.Status);
        if (record.Error is null)
        {
            SqliteNative.BindNull(s, offset + 11);
        }
        else
        {
            raw.sqlite3_bind_text16(statement, offset + 11, record.Error.AsSpan());
        }

        SqliteNative.BindInt64(s, offset + 12, record.PromptTokens);
        SqliteNative.BindInt64(s, offset + 13, record.CompletionTokens);
        SqliteNative.BindInt64(s, offset + 14, Micros(record.QueueMs));
        if (record.TtftMs is { } ttft)
        {
            SqliteNative.BindInt64(s, offset + 15, Micros(ttft));
        }
        else
        {
            SqliteNative.BindNull(s, offset + 15);
        }

        SqliteNative.BindInt64(s, offset + 16, Micros(record.DurationMs));
        SqliteNative.BindInt64(s, offset + 17, Micros(record.OverheadMs));
        SqliteNative.BindInt64(s, offset + 18, record.BytesIn);
        SqliteNative.BindInt64(s, offset + 19, record.BytesOut);
        SqliteNative.BindInt64(s, offset + 20, record.Attempts);
        SqliteNative.BindInt64(s, offset + 21, record.Cancelled ? 1 : 0);

        if (!addToRollups)
        {
            return;
        }

        var key = new RollupKey(UsageHours.Floor(time), keyId, keyName, user, route, resolved != 0 ? resolved : model, backend, record.Status);
        // Consecutive records mostly share their rollup row: compared field by field before the dictionary hashes.
        var totals = _previousRollup;
        if (totals is null || key != _previousRollupKey)
        {
            if (!_batchRollups.TryGetValue(key, out totals))
            {
                totals = new UsageTotals();
                _batchRollups.Add(key, totals);
            }

            _previousRollupKey = key;
            _previousRollup = totals;
        }

        totals.Add(record.Status, record.PromptTokens, record.CompletionTokens, record.TtftMs, record.DurationMs);
    }

    private void WriteRollup(RollupKey key, UsageTotals delta)
    {
        if (key.HourMs > _newestHour)
        {
            _newestHour = key.HourMs;
            ForgetOldRollups();
        }

        // Null: a row this connection has not seen yet, read (or found missing) now.
        if (!_cachedRollups.TryGetValue(key, out var totals))
        {
            totals = ReadRollup(key);
            if (totals is not null && key.HourMs >= _newestHour - (CachedRollupHours * UsageHours.HourMs))
            {
                if (_cachedRollups.Count >= MaxCachedRollups)
                {
                    _cachedRollups.Clear();
                }

                _cachedRollups.Add(key, totals);
            }
        }

        var statement = _updateRollup;
        if (totals is null)
        {
            statement = _insertRollup;
            totals = delta;
            if (key.HourMs >= _newestHour - (CachedRollupHours * UsageHours.HourMs) && _cachedRollups.Count < MaxCachedRollups)
            {
                _cachedRollups.Add(key, delta);
            }
        }
        else
        {
            totals.Merge(delta);
        }

        var s = statement.DangerousGetHandle();
        BindKey(s, key);
        SqliteNative.BindInt64(s, 9, totals.Requests);
        SqliteNative.BindInt64(s, 10, totals.Errors);
        SqliteNative.BindInt64(s, 11, totals.PromptTokens);
        SqliteNative.BindInt64(s, 12, totals.CompletionTokens);
        BindHistogram(statement, 13, totals.Ttft);
        BindHistogram(statement, 14, totals.Duration);
        SqliteNative.BindInt64(s, 15, totals.TtftCount);
        SqliteNative.BindInt64(s, 16, totals.TtftSumUs);
        Run(statement);
    }

    private UsageTotals? ReadRollup(RollupKey key)
    {
        BindKey(_selectRollup.DangerousGetHandle(), key);
        try
        {
            var rc = raw.sqlite3_step(_selectRollup);
            if (rc != raw.SQLITE_ROW)
            {
                Check(rc);
                return null;
            }

            var totals = new UsageTotals();
            totals.Add(
                raw.sqlite3_column_int64(_selectRollup, 0),
                raw.sqlite3_column_int64(_selectRollup, 1),
                raw.sqlite3_column_int64(_selectRollup, 2),
                raw.sqlite3_column_int64(_selectRollup, 3),
                raw.sqlite3_column_int64(_selectRollup, 4),
                raw.sqlite3_column_int64(_selectRollup, 5),
                raw.sqlite3_column_blob(_selectRollup, 6),
                raw.sqlite3_column_blob(_selectRollup, 7));
            return totals;
        }
        finally
        {
            raw.sqlite3_reset(_selectRollup);
        }
    }

    private void ForgetOldRollups()
    {
        var oldest = _newestHour - (CachedRollupHours * UsageHours.HourMs);
        _expired.Clear();
        foreach (var key in _cachedRollups.Keys)
        {
            if (key.HourMs < oldest)
            {
                _expired.Add(key);
            }
        }

        foreach (var key in _expired)
        {
            _cachedRollups.Remove(key);
        }
    }

    private void BindHistogram(sqlite3_stmt statement, int index, LogHistogram histogram)
    {
        if (_blob.Length < histogram.MaxEncodedLength)
        {
            _blob = new byte[Math.Max(histogram.MaxEncodedLength, _blob.Length * 2)];
        }

        // SQLite copies the value (SQLITE_TRANSIENT), so the buffer is reused.
        Check(raw.sqlite3_bind_blob(statement, index, _blob.AsSpan(0, histogram.EncodeTo(_blob))));
    }

    // The id of the name in a column of the record (see _previousNames).
    private long NameId(int column, string? name)
    {
        ref var previous = ref _previousNames[column];
        if (ReferenceEquals(previous.Name, name))
        {
            // A slot never filled holds (null, 0): no name.
            return previous.Id;
        }

        var id = NameId(name);
        previous = new NameSlot(name, id);
        return id;
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

    private static void BindKey(nint s, RollupKey key)
    {
        SqliteNative.BindInt64(s, 1, key.HourMs);
        SqliteNative.BindInt64(s, 2, key.KeyId);
        SqliteNative.BindInt64(s, 3, key.KeyName);
        SqliteNative.BindInt64(s, 4, key.User);
        SqliteNative.BindInt64(s, 5, key.Route);
        SqliteNative.BindInt64(s, 6, key.Model);
        SqliteNative.BindInt64(s, 7, key.Backend);
        SqliteNative.BindInt64(s, 8, key.Status);
    }

    // In the records table a missing name is NULL; in the rollups (a primary key) it is 0.
    private static void BindName(nint statement, int index, long id)
    {
        if (id == 0)
        {
            SqliteNative.BindNull(statement, index);
        }
        else
        {
            SqliteNative.BindInt64(statement, index, id);
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

    private readonly record struct NameSlot(string? Name, long Id);

    private readonly record struct RollupKey(long HourMs, long KeyId, long KeyName, long User, long Route, long Model, long Backend, int Status);
}
