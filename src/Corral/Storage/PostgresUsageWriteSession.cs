using Corral.Usage;
using Npgsql;
using NpgsqlTypes;

namespace Corral.Storage;

/// <summary>
/// A usage writer's own PostgreSQL connection. Several Corrals may write to one database at once, each through one of
/// these, so each holds a writer slot: the smallest number whose session advisory lock (<c>pg_try_advisory_lock</c>)
/// it could take, held as long as its connection lives. The slot is in the low bits of its records' ids (so two
/// writers' ids never meet) and in the <c>writer</c> column of its rollup rows (so every rollup row has one writer,
/// which may keep its totals in memory and overwrite the row, as SQLite's writer does). Reads merge the writers' rows,
/// as they merge hours. A batch is three statements on prepared commands: the names it brings (their own short
/// statement, committed whatever becomes of the batch), its records (one <c>INSERT ... SELECT FROM unnest</c> of
/// column arrays) and its rollup rows (one upsert), the last two in one transaction.
/// </summary>
internal sealed class PostgresUsageWriteSession : IUsageWriteSession
{
    // A record's id: its time in ms × 2^20 + the writer's slot (6 bits) × 2^14 + the writer's sequence (14 bits). The
    // first 64 slots never share ids; beyond them, and when a writer's sequence comes round within one millisecond, an
    // id may be taken already: the insert skips it and the record gets the next number.
    private const int SequenceBits = 20;
    private const int SlotBits = 6;
    private const int SlotShift = SequenceBits - SlotBits;
    private const long SlotSequenceMask = (1L << SlotShift) - 1;

    // pg_try_advisory_lock(WriterLocks, slot): the first key of the two-key form, "Corr"; slots from 0 up.
    private const int WriterLocks = 0x436f7272;
    private const int MaxSlots = 4096;

    // A name cache that grew past this (clients may name any model or user) starts again from the table.
    private const int MaxCachedNames = 10_000;
    private const int MaxCachedRollups = 200_000;
    private const long CachedRollupHours = 2;
    private const int MaxIdAttempts = 64;

    private const string CopyRecordsSql = """
        COPY usage_records (id, time_ms, key_id, key_name, end_user, route, model, resolved_model, backend, status, error,
            prompt_tokens, completion_tokens, queue_us, ttft_us, duration_us, overhead_us, bytes_in, bytes_out, attempts,
            cancelled) FROM STDIN (FORMAT BINARY)
        """;

    private const string RollupKeyColumns = "hour_ms, key_id, key_name, end_user, route, model, backend, status";

    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlBatch _names;
    private readonly NpgsqlCommand _insertRecords;
    private readonly NpgsqlCommand _selectRollups;
    private readonly NpgsqlCommand _upsertRollups;
    private readonly NpgsqlCommand _deleteRecords;
    private readonly NpgsqlCommand _deleteRollupHour;
    private readonly Dictionary<string, long> _nameIds = new(StringComparer.Ordinal);
    private readonly Dictionary<RollupKey, UsageTotals> _batchRollups = [];
    private readonly Dictionary<RollupKey, UsageTotals> _cachedRollups = [];
    private readonly List<RollupKey> _expired = [];
    private long _newestHour;
    private long _sequence;

    /// <summary>Opens <paramref name="connection"/> (a dedicated one, outside the pool) and takes a writer slot.</summary>
    public PostgresUsageWriteSession(NpgsqlConnection connection)
    {
        _connection = connection;
        try
        {
            _connection.Open();
            Slot = TakeSlot();

            _names = new NpgsqlBatch(_connection)
            {
                BatchCommands =
                {
                    // In name order, so that two writers bringing the same new names take their index entries in one order.
                    new NpgsqlBatchCommand("INSERT INTO usage_names (name) SELECT n FROM unnest($1::text[]) AS n ORDER BY n ON CONFLICT (name) DO NOTHING;")
                    {
                        Parameters = { new NpgsqlParameter<string[]> { TypedValue = [] } },
                    },
                    new NpgsqlBatchCommand("SELECT id, name FROM usage_names WHERE name = ANY($1::text[]);")
                    {
                        Parameters = { new NpgsqlParameter<string[]> { TypedValue = [] } },
                    },
                },
            };
            _insertRecords = new NpgsqlCommand("""
                INSERT INTO usage_records (id, time_ms, key_id, key_name, end_user, route, model, resolved_model, backend, status,
                    error, prompt_tokens, completion_tokens, queue_us, ttft_us, duration_us, overhead_us, bytes_in, bytes_out,
                    attempts, cancelled)
                SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                    $7::bigint[], $8::bigint[], $9::bigint[], $10::integer[], $11::text[], $12::integer[], $13::integer[],
                    $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::bigint[], $19::bigint[], $20::integer[],
                    $21::boolean[])
                ON CONFLICT (id) DO NOTHING
                RETURNING id;
                """, _connection);
            // One primary key lookup per key (LATERAL), whatever the planner makes of the arrays' sizes.
            _selectRollups = new NpgsqlCommand("""
                SELECT k.hour_ms, k.key_id, k.key_name, k.end_user, k.route, k.model, k.backend, k.status,
                    h.requests, h.errors, h.prompt_tokens, h.completion_tokens, h.ttft_count, h.ttft_sum_us, h.ttft_histogram, h.duration_histogram
                FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
                    $8::integer[]) AS k(hour_ms, key_id, key_name, end_user, route, model, backend, status)
                CROSS JOIN LATERAL (
                    SELECT requests, errors, prompt_tokens, completion_tokens, ttft_count, ttft_sum_us, ttft_histogram, duration_histogram
                    FROM usage_hourly u
                    WHERE u.hour_ms = k.hour_ms AND u.key_id = k.key_id AND u.key_name = k.key_name AND u.end_user = k.end_user
                        AND u.route = k.route AND u.model = k.model AND u.backend = k.backend AND u.status = k.status AND u.writer = $9
                ) AS h;
                """, _connection);
            _upsertRollups = new NpgsqlCommand($"""
                INSERT INTO usage_hourly ({RollupKeyColumns}, writer, requests, errors, prompt_tokens, completion_tokens,
                    ttft_histogram, duration_histogram, ttft_count, ttft_sum_us)
                SELECT {RollupKeyColumns}, $9, requests, errors, prompt_tokens, completion_tokens, ttft_histogram, duration_histogram,
                    ttft_count, ttft_sum_us
                FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
                    $8::integer[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bytea[], $15::bytea[],
                    $16::bigint[], $17::bigint[])
                    AS r({RollupKeyColumns}, requests, errors, prompt_tokens, completion_tokens, ttft_histogram, duration_histogram,
                        ttft_count, ttft_sum_us)
                ON CONFLICT ({RollupKeyColumns}, writer) DO UPDATE SET requests = excluded.requests, errors = excluded.errors,
                    prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                    ttft_histogram = excluded.ttft_histogram, duration_histogram = excluded.duration_histogram,
                    ttft_count = excluded.ttft_count, ttft_sum_us = excluded.ttft_sum_us;
                """, _connection);
            _deleteRecords = new NpgsqlCommand("DELETE FROM usage_records WHERE id IN (SELECT id FROM usage_records WHERE id < $1 ORDER BY id LIMIT $2);", _connection);
            _deleteRollupHour = new NpgsqlCommand("DELETE FROM usage_hourly WHERE hour_ms = (SELECT min(hour_ms) FROM usage_hourly) AND hour_ms < $1;", _connection);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>This writer's slot among those writing to the database now (0 when it is the only one).</summary>
    public int Slot { get; }

    /// <summary>The sequence number of the next record's id (tests set it to make two ids collide).</summary>
    internal long NextSequence
    {
        get => _sequence;
        set => _sequence = value;
    }

    public void Write(IReadOnlyList<UsageRecord> records)
    {
        if (records.Count == 0)
        {
            return;
        }

        // Committed on their own: a name is harmless when its batch fails, and the batch does not wait on another's.
        ResolveNames(records);
        _batchRollups.Clear();
        var columns = new RecordColumns(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            AddRecord(columns, i, records[i]);
        }

        try
        {
            using var transaction = _connection.BeginTransaction();
            CopyRecords(columns, transaction);
            WriteRollups(transaction);
            transaction.Commit();
        }
        catch
        {
            // The rollup rows in memory may hold this batch's counts, which the database does not.
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
        _deleteRecords.Parameters.Clear();
        _deleteRecords.Parameters.Add(new NpgsqlParameter<long> { TypedValue = SqliteUsageWriteSession.IdOf(before) });
        _deleteRecords.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return _deleteRecords.ExecuteNonQuery();
    }

    public int DeleteOldestRollupHourBefore(DateTimeOffset before)
    {
        _deleteRollupHour.Parameters.Clear();
        _deleteRollupHour.Parameters.Add(new NpgsqlParameter<long> { TypedValue = before.ToUnixTimeMilliseconds() });
        return _deleteRollupHour.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _names?.Dispose();
        _insertRecords?.Dispose();
        _selectRollups?.Dispose();
        _upsertRollups?.Dispose();
        _deleteRecords?.Dispose();
        _deleteRollupHour?.Dispose();
        // Closing the connection (outside any pool) ends its session, and with it the slot's advisory lock.
        _connection.Dispose();
    }

    private int TakeSlot()
    {
        using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1, $2);", _connection);
        var space = new NpgsqlParameter<int> { TypedValue = WriterLocks };
        var slot = new NpgsqlParameter<int>();
        command.Parameters.Add(space);
        command.Parameters.Add(slot);
        for (var candidate = 0; candidate < MaxSlots; candidate++)
        {
            slot.TypedValue = candidate;
            if (command.ExecuteScalar() is true)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"all {MaxSlots} usage writer slots of the database are taken");
    }

    // The ids of the names of the records that this session has not seen yet: inserted if new, then read.
    private void ResolveNames(IReadOnlyList<UsageRecord> records)
    {
        HashSet<string>? unknown = null;
        foreach (var record in records)
        {
            Unknown(record.KeyId, ref unknown);
            Unknown(record.KeyName, ref unknown);
            Unknown(record.User, ref unknown);
            Unknown(record.Route, ref unknown);
            Unknown(record.Model, ref unknown);
            Unknown(record.ResolvedModel, ref unknown);
            Unknown(record.Backend, ref unknown);
        }

        if (unknown is null)
        {
            return;
        }

        if (_nameIds.Count + unknown.Count > MaxCachedNames)
        {
            _nameIds.Clear();
        }

        // Names as stored (PostgresText.Clean) may differ from the names given; both are mapped to the stored one's id.
        var given = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var name in unknown)
        {
            var stored = PostgresText.Clean(name);
            if (!given.TryGetValue(stored, out var originals))
            {
                given[stored] = originals = [];
            }

            originals.Add(name);
        }

        string[] storedNames = [.. given.Keys];
        ((NpgsqlParameter<string[]>)_names.BatchCommands[0].Parameters[0]).TypedValue = storedNames;
        ((NpgsqlParameter<string[]>)_names.BatchCommands[1].Parameters[0]).TypedValue = storedNames;
        // The insert returns no rows: the reader starts on the select's.
        using var reader = _names.ExecuteReader();
        while (reader.Read())
        {
            var id = reader.GetInt64(0);
            foreach (var original in given[reader.GetString(1)])
            {
                _nameIds[original] = id;
            }
        }
    }

    private void Unknown(string? name, ref HashSet<string>? unknown)
    {
        if (name is not null && !_nameIds.ContainsKey(name))
        {
            (unknown ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
        }
    }

    private long NameId(string? name) => name is null ? 0 : _nameIds[name];

    // The record's values into the columns' arrays, and its counts into its rollup row of the batch.
    private void AddRecord(RecordColumns columns, int i, UsageRecord record)
    {
        var time = record.Time.ToUnixTimeMilliseconds();
        var keyId = NameId(record.KeyId);
        var keyName = NameId(record.KeyName);
        var user = NameId(record.User);
        var route = NameId(record.Route);
        var model = NameId(record.Model);
        var resolved = NameId(record.ResolvedModel);
        var backend = NameId(record.Backend);

        columns.Id[i] = NextId(time);
        columns.Time[i] = time;
        columns.KeyId[i] = OrNull(keyId);
        columns.KeyName[i] = OrNull(keyName);
        columns.User[i] = OrNull(user);
        columns.Route[i] = route;
        columns.Model[i] = OrNull(model);
        columns.ResolvedModel[i] = OrNull(resolved);
        columns.Backend[i] = OrNull(backend);
        columns.Status[i] = record.Status;
        columns.Error[i] = record.Error is null ? null : PostgresText.Clean(record.Error);
        columns.PromptTokens[i] = record.PromptTokens;
        columns.CompletionTokens[i] = record.CompletionTokens;
        columns.QueueUs[i] = SqliteUsageWriteSession.Micros(record.QueueMs);
        columns.TtftUs[i] = record.TtftMs is { } ttft ? SqliteUsageWriteSession.Micros(ttft) : null;
        columns.DurationUs[i] = SqliteUsageWriteSession.Micros(record.DurationMs);
        columns.OverheadUs[i] = SqliteUsageWriteSession.Micros(record.OverheadMs);
        columns.BytesIn[i] = record.BytesIn;
        columns.BytesOut[i] = record.BytesOut;
        columns.Attempts[i] = record.Attempts;
        columns.Cancelled[i] = record.Cancelled;

        var key = new RollupKey(UsageHours.Floor(time), keyId, keyName, user, route, resolved != 0 ? resolved : model, backend, record.Status);
        if (!_batchRollups.TryGetValue(key, out var totals))
        {
            totals = new UsageTotals();
            _batchRollups.Add(key, totals);
        }

        totals.Add(record.Status, record.PromptTokens, record.CompletionTokens, record.TtftMs, record.DurationMs);
    }

    private static long? OrNull(long id) => id == 0 ? null : id;

    private long NextId(long time) => (time << SequenceBits) | ((long)(Slot & ((1 << SlotBits) - 1)) << SlotShift) | (_sequence++ & SlotSequenceMask);

    // Copies the records in (binary COPY: the fastest way in); should an id be taken, which COPY cannot skip, back to
    // before the copy and the records go through InsertRecords instead.
    private void CopyRecords(RecordColumns columns, NpgsqlTransaction transaction)
    {
        transaction.Save("records");
        try
        {
            using (var copy = _connection.BeginBinaryImport(CopyRecordsSql))
            {
                for (var i = 0; i < columns.Id.Length; i++)
                {
                    copy.StartRow();
                    copy.Write(columns.Id[i], NpgsqlDbType.Bigint);
                    copy.Write(columns.Time[i], NpgsqlDbType.Bigint);
                    WriteName(copy, columns.KeyId[i]);
                    WriteName(copy, columns.KeyName[i]);
                    WriteName(copy, columns.User[i]);
                    copy.Write(columns.Route[i], NpgsqlDbType.Bigint);
                    WriteName(copy, columns.Model[i]);
                    WriteName(copy, columns.ResolvedModel[i]);
                    WriteName(copy, columns.Backend[i]);
                    copy.Write(columns.Status[i], NpgsqlDbType.Integer);
                    if (columns.Error[i] is { } error)
                    {
                        copy.Write(error, NpgsqlDbType.Text);
                    }
                    else
                    {
                        copy.WriteNull();
                    }

                    copy.Write(columns.PromptTokens[i], NpgsqlDbType.Integer);
                    copy.Write(columns.CompletionTokens[i], NpgsqlDbType.Integer);
                    copy.Write(columns.QueueUs[i], NpgsqlDbType.Bigint);
                    WriteName(copy, columns.TtftUs[i]);
                    copy.Write(columns.DurationUs[i], NpgsqlDbType.Bigint);
                    copy.Write(columns.OverheadUs[i], NpgsqlDbType.Bigint);
                    copy.Write(columns.BytesIn[i], NpgsqlDbType.Bigint);
                    copy.Write(columns.BytesOut[i], NpgsqlDbType.Bigint);
                    copy.Write(columns.Attempts[i], NpgsqlDbType.Integer);
                    copy.Write(columns.Cancelled[i], NpgsqlDbType.Boolean);
                }

                copy.Complete();
            }

            transaction.Release("records");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            transaction.Rollback("records");
            InsertRecords(columns, transaction);
        }
    }

    private static void WriteName(NpgsqlBinaryImporter copy, long? value)
    {
        if (value is { } v)
        {
            copy.Write(v, NpgsqlDbType.Bigint);
        }
        else
        {
            copy.WriteNull();
        }
    }

    // Inserts the records, skipping ids already taken; those records get the next number and go again.
    private void InsertRecords(RecordColumns columns, NpgsqlTransaction transaction)
    {
        for (var attempt = 0; ; attempt++)
        {
            _insertRecords.Transaction = transaction;
            columns.Bind(_insertRecords.Parameters);
            var inserted = new HashSet<long>(columns.Id.Length);
            using (var reader = _insertRecords.ExecuteReader())
            {
                while (reader.Read())
                {
                    inserted.Add(reader.GetInt64(0));
                }
            }

            if (inserted.Count == columns.Id.Length)
            {
                return;
            }

            if (attempt >= MaxIdAttempts)
            {
                throw new InvalidOperationException($"{columns.Id.Length - inserted.Count} usage records found no free id in {MaxIdAttempts} attempts");
            }

            // An id given twice in one batch is inserted once: the other record goes again too.
            var left = new List<int>();
            for (var i = 0; i < columns.Id.Length; i++)
            {
                if (!inserted.Remove(columns.Id[i]))
                {
                    left.Add(i);
                }
            }

            columns = columns.Select(left);
            for (var i = 0; i < columns.Id.Length; i++)
            {
                columns.Id[i] = NextId(columns.Time[i]);
            }
        }
    }

    // The batch's rollup rows, each added to its row as stored (read the first time this session meets it) and written whole.
    private void WriteRollups(NpgsqlTransaction transaction)
    {
        var stored = ReadUncachedRollups(transaction);
        var count = _batchRollups.Count;
        var keys = new RollupColumns(count);
        var requests = new long[count];
        var errors = new long[count];
        var promptTokens = new long[count];
        var completionTokens = new long[count];
        var ttft = new byte[count][];
        var duration = new byte[count][];
        var ttftCount = new long[count];
        var ttftSumUs = new long[count];
        var row = 0;
        foreach (var (key, delta) in _batchRollups)
        {
            if (key.HourMs > _newestHour)
            {
                _newestHour = key.HourMs;
                ForgetOldRollups();
            }

            var recent = key.HourMs >= _newestHour - (CachedRollupHours * UsageHours.HourMs);
            if (!_cachedRollups.TryGetValue(key, out var totals))
            {
                totals = stored.GetValueOrDefault(key) ?? new UsageTotals();
                if (recent)
                {
                    if (_cachedRollups.Count >= MaxCachedRollups)
                    {
                        _cachedRollups.Clear();
                    }

                    _cachedRollups.Add(key, totals);
                }
            }

            totals.Merge(delta);
            keys.Set(row, key);
            requests[row] = totals.Requests;
            errors[row] = totals.Errors;
            promptTokens[row] = totals.PromptTokens;
            completionTokens[row] = totals.CompletionTokens;
            ttft[row] = totals.Ttft.Encode();
            duration[row] = totals.Duration.Encode();
            ttftCount[row] = totals.TtftCount;
            ttftSumUs[row] = totals.TtftSumUs;
            row++;
        }

        var parameters = _upsertRollups.Parameters;
        parameters.Clear();
        keys.Bind(parameters, Slot);
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = requests });
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = errors });
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = promptTokens });
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = completionTokens });
        parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = ttft, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = duration, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ttftCount });
        parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ttftSumUs });
        _upsertRollups.Transaction = transaction;
        _upsertRollups.ExecuteNonQuery();
    }

    // This writer's stored rows of the batch's rollup keys that are not in memory, in one query.
    private Dictionary<RollupKey, UsageTotals> ReadUncachedRollups(NpgsqlTransaction transaction)
    {
        var stored = new Dictionary<RollupKey, UsageTotals>();
        var missing = new List<RollupKey>();
        foreach (var key in _batchRollups.Keys)
        {
            if (!_cachedRollups.ContainsKey(key))
            {
                missing.Add(key);
            }
        }

        if (missing.Count == 0)
        {
            return stored;
        }

        var keys = new RollupColumns(missing.Count);
        for (var i = 0; i < missing.Count; i++)
        {
            keys.Set(i, missing[i]);
        }

        _selectRollups.Parameters.Clear();
        keys.Bind(_selectRollups.Parameters, Slot);
        _selectRollups.Transaction = transaction;
        using var reader = _selectRollups.ExecuteReader();
        while (reader.Read())
        {
            var key = new RollupKey(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt32(7));
            var totals = new UsageTotals();
            totals.Add(reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11), reader.GetInt64(12), reader.GetInt64(13), reader.GetFieldValue<byte[]>(14), reader.GetFieldValue<byte[]>(15));
            stored[key] = totals;
        }

        return stored;
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

    private readonly record struct RollupKey(long HourMs, long KeyId, long KeyName, long User, long Route, long Model, long Backend, int Status);

    // The key columns of rollup rows as arrays ($1 to $8, then the writer as $9).
    private sealed class RollupColumns(int count)
    {
        private readonly long[] _hour = new long[count];
        private readonly long[] _keyId = new long[count];
        private readonly long[] _keyName = new long[count];
        private readonly long[] _user = new long[count];
        private readonly long[] _route = new long[count];
        private readonly long[] _model = new long[count];
        private readonly long[] _backend = new long[count];
        private readonly int[] _status = new int[count];

        public void Set(int i, RollupKey key)
        {
            _hour[i] = key.HourMs;
            _keyId[i] = key.KeyId;
            _keyName[i] = key.KeyName;
            _user[i] = key.User;
            _route[i] = key.Route;
            _model[i] = key.Model;
            _backend[i] = key.Backend;
            _status[i] = key.Status;
        }

        public void Bind(NpgsqlParameterCollection parameters, int writer)
        {
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _hour });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _keyId });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _keyName });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _user });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _route });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _model });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = _backend });
            parameters.Add(new NpgsqlParameter<int[]> { TypedValue = _status });
            parameters.Add(new NpgsqlParameter<int> { TypedValue = writer });
        }
    }

    // A batch's records as one array per column of usage_records ($1 to $21 of the insert).
    private sealed class RecordColumns(int count)
    {
        public long[] Id { get; } = new long[count];
        public long[] Time { get; } = new long[count];
        public long?[] KeyId { get; } = new long?[count];
        public long?[] KeyName { get; } = new long?[count];
        public long?[] User { get; } = new long?[count];
        public long[] Route { get; } = new long[count];
        public long?[] Model { get; } = new long?[count];
        public long?[] ResolvedModel { get; } = new long?[count];
        public long?[] Backend { get; } = new long?[count];
        public int[] Status { get; } = new int[count];
        public string?[] Error { get; } = new string?[count];
        public int[] PromptTokens { get; } = new int[count];
        public int[] CompletionTokens { get; } = new int[count];
        public long[] QueueUs { get; } = new long[count];
        public long?[] TtftUs { get; } = new long?[count];
        public long[] DurationUs { get; } = new long[count];
        public long[] OverheadUs { get; } = new long[count];
        public long[] BytesIn { get; } = new long[count];
        public long[] BytesOut { get; } = new long[count];
        public int[] Attempts { get; } = new int[count];
        public bool[] Cancelled { get; } = new bool[count];

        public void Bind(NpgsqlParameterCollection parameters)
        {
            parameters.Clear();
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = Id });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = Time });
            parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = KeyId });
            parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = KeyName });
            parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = User });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = Route });
            parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = Model });
            parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = ResolvedModel });
            parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = Backend });
            parameters.Add(new NpgsqlParameter<int[]> { TypedValue = Status });
            parameters.Add(new NpgsqlParameter<string?[]> { TypedValue = Error, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            parameters.Add(new NpgsqlParameter<int[]> { TypedValue = PromptTokens });
            parameters.Add(new NpgsqlParameter<int[]> { TypedValue = CompletionTokens });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = QueueUs });
            parameters.Add(new NpgsqlParameter<long?[]> { TypedValue = TtftUs });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = DurationUs });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = OverheadUs });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = BytesIn });
            parameters.Add(new NpgsqlParameter<long[]> { TypedValue = BytesOut });
            parameters.Add(new NpgsqlParameter<int[]> { TypedValue = Attempts });
            parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = Cancelled });
        }

        // The rows at the given indexes, as columns of their own.
        public RecordColumns Select(List<int> rows)
        {
            var picked = new RecordColumns(rows.Count);
            for (var i = 0; i < rows.Count; i++)
            {
                var r = rows[i];
                picked.Id[i] = Id[r];
                picked.Time[i] = Time[r];
                picked.KeyId[i] = KeyId[r];
                picked.KeyName[i] = KeyName[r];
                picked.User[i] = User[r];
                picked.Route[i] = Route[r];
                picked.Model[i] = Model[r];
                picked.ResolvedModel[i] = ResolvedModel[r];
                picked.Backend[i] = Backend[r];
                picked.Status[i] = Status[r];
                picked.Error[i] = Error[r];
                picked.PromptTokens[i] = PromptTokens[r];
                picked.CompletionTokens[i] = CompletionTokens[r];
                picked.QueueUs[i] = QueueUs[r];
                picked.TtftUs[i] = TtftUs[r];
                picked.DurationUs[i] = DurationUs[r];
                picked.OverheadUs[i] = OverheadUs[r];
                picked.BytesIn[i] = BytesIn[r];
                picked.BytesOut[i] = BytesOut[r];
                picked.Attempts[i] = Attempts[r];
                picked.Cancelled[i] = Cancelled[r];
            }

            return picked;
        }
    }
}
