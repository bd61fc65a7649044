using Corral.Access;
using Npgsql;
using NpgsqlTypes;

namespace Corral.Storage;

/// <summary>
/// The PostgreSQL store (<c>--database</c>): API keys, API-added backends, audit events, usage records and their
/// rollups (PostgresStore.Usage.cs), in one database that several Corral processes may share. Writes to keys and
/// backends notify the others in the same transaction (<see cref="PostgresChangeListener"/>). See Storage/README.md.
/// </summary>
internal sealed partial class PostgresStore : IKeyStore, IBackendStore, IPresetStore, IAuditStore, IQuotaStore, IDisposable
{
    /// <summary>The channel of <c>NOTIFY</c>: its payload is the topic (<c>keys</c>, <c>backends</c>), a space and the id of the Corral that wrote.</summary>
    public const string ChangesChannel = "corral_changes";

    // pg_advisory_xact_lock's key while migrating: one Corral at a time brings the schema up to date.
    private const long MigrationLock = 0x436f7272_616c0001;

    // Each entry upgrades the schema by one version (a row of corral_migrations); never edit a shipped entry. Times of
    // keys and backends are timestamptz; those of usage and audit unix ms, as in SQLite, so both stores share the code
    // that makes ids and hours of them.
    private static readonly string[] s_migrations =
    [
        """
        CREATE TABLE api_keys (
            id                   text PRIMARY KEY,
            name                 text NOT NULL,
            role                 text NOT NULL,
            hash                 bytea NOT NULL UNIQUE,
            hint                 text NOT NULL,
            created_at           timestamptz NOT NULL,
            expires_at           timestamptz NULL,
            revoked_at           timestamptz NULL,
            asserts_users        boolean NOT NULL DEFAULT false,
            description          text NULL,
            models               text[] NULL,
            requests_per_minute  integer NULL,
            tokens_per_minute    bigint NULL,
            tokens_per_day       bigint NULL,
            max_concurrency      integer NULL,
            last_used_at         timestamptz NULL,
            previous_hash        bytea NULL,
            previous_until       timestamptz NULL
        );
        CREATE TABLE backends (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name        text NOT NULL,
            options     text NOT NULL,
            created_at  timestamptz NOT NULL,
            updated_at  timestamptz NOT NULL
        );
        CREATE UNIQUE INDEX backends_name ON backends (lower(name));
        CREATE TABLE audit_events (
            id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time_ms   bigint NOT NULL,
            key_id    text NULL,
            key_name  text NULL,
            address   text NULL,
            action    text NOT NULL,
            target    text NULL,
            outcome   text NOT NULL
        );
        CREATE INDEX audit_events_time ON audit_events (time_ms);
        """,
        // Usage (see Storage/README.md): as in SQLite, but a rollup row belongs to one writer (writer: the slot it
        // holds), so that several Corrals write their own rows without waiting for each other; reads merge them.
        """
        CREATE TABLE usage_names (
            id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name  text NOT NULL UNIQUE
        );
        CREATE TABLE usage_records (
            id                 bigint PRIMARY KEY,
            time_ms            bigint NOT NULL,
            key_id             bigint NULL,
            key_name           bigint NULL,
            end_user           bigint NULL,
            route              bigint NOT NULL,
            model              bigint NULL,
            resolved_model     bigint NULL,
            backend            bigint NULL,
            status             integer NOT NULL,
            error              text NULL,
            prompt_tokens      integer NOT NULL,
            completion_tokens  integer NOT NULL,
            queue_us           bigint NOT NULL,
            ttft_us            bigint NULL,
            duration_us        bigint NOT NULL,
            overhead_us        bigint NOT NULL,
            bytes_in           bigint NOT NULL,
            bytes_out          bigint NOT NULL,
            attempts           integer NOT NULL,
            cancelled          boolean NOT NULL
        );
        CREATE TABLE usage_hourly (
            hour_ms             bigint NOT NULL,
            key_id              bigint NOT NULL,
            key_name            bigint NOT NULL,
            end_user            bigint NOT NULL,
            route               bigint NOT NULL,
            model               bigint NOT NULL,
            backend             bigint NOT NULL,
            status              integer NOT NULL,
            writer              integer NOT NULL,
            requests            bigint NOT NULL,
            errors              bigint NOT NULL,
            prompt_tokens       bigint NOT NULL,
            completion_tokens   bigint NOT NULL,
            ttft_histogram      bytea NOT NULL,
            duration_histogram  bytea NOT NULL,
            PRIMARY KEY (hour_ms, key_id, key_name, end_user, route, model, backend, status, writer)
        );
        """,
        // The keys' rates shared by every Corral (Access/KeyState leases from them): a token bucket per key and rate,
        // its level as of updated_at (the database's clock, the same for every Corral).
        """
        CREATE TABLE rate_buckets (
            key_id      text NOT NULL,
            rate        text NOT NULL,
            level       double precision NOT NULL,
            updated_at  timestamptz NOT NULL,
            PRIMARY KEY (key_id, rate)
        );
        """,
        // The count and sum of the rollups' times to first byte, for their average; 0 in the hours rolled up before.
        """
        ALTER TABLE usage_hourly ADD COLUMN ttft_count bigint NOT NULL DEFAULT 0, ADD COLUMN ttft_sum_us bigint NOT NULL DEFAULT 0;
        """,
        // Model presets added through the admin API (definition: the JSON of the body), as backends are kept.
        """
        CREATE TABLE presets (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name        text NOT NULL,
            definition  text NOT NULL,
            created_at  timestamptz NOT NULL,
            updated_at  timestamptz NOT NULL
        );
        CREATE UNIQUE INDEX presets_name ON presets (lower(name));
        """,
    ];

    private const string KeyColumns = "id, name, role, hash, hint, created_at, expires_at, revoked_at, asserts_users, description, models, "
        + "requests_per_minute, tokens_per_minute, tokens_per_day, max_concurrency, last_used_at, previous_hash, previous_until";

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _dedicatedConnectionString;
    private int _disposed;

    /// <summary>A store on the database of <paramref name="connectionString"/> (an Npgsql connection string); nothing is opened yet.</summary>
    public PostgresStore(string connectionString)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        // The usage writer and the change listener hold a connection of their own for as long as they run (with a
        // session advisory lock, or LISTEN): never one of the pool's. The writer's few statements, run for every batch,
        // are prepared on the server after their second use.
        _dedicatedConnectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            KeepAlive = 15,
            MaxAutoPrepare = 16,
            AutoPrepareMinUsages = 2,
        }.ConnectionString;
    }

    /// <summary>This store's id among the Corrals sharing the database, in its notifications (a listener ignores its own).</summary>
    public string InstanceId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The versions of the schema this build knows; <c>corral_migrations</c> has a row for each one applied.</summary>
    public static int SchemaVersion => s_migrations.Length;

    /// <summary>Applies the migrations not applied yet, all in one transaction, under an advisory lock (another Corral starting at the same moment waits, then finds them applied).</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock});", cancellationToken);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS corral_migrations (
                version     integer PRIMARY KEY,
                applied_at  timestamptz NOT NULL
            );
            """, cancellationToken);
        await using (var version = new NpgsqlCommand("SELECT COALESCE(max(version), 0) FROM corral_migrations;", connection, transaction))
        {
            var applied = Convert.ToInt32(await version.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            for (var next = applied; next < s_migrations.Length; next++)
            {
                await ExecuteAsync(connection, transaction, s_migrations[next], cancellationToken);
                await using var record = new NpgsqlCommand("INSERT INTO corral_migrations (version, applied_at) VALUES ($1, now());", connection, transaction);
                record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = next + 1 });
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<StoredKey>> ListKeysAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT {KeyColumns} FROM api_keys ORDER BY created_at, id;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<StoredKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new StoredKey(
                reader.GetString(0),
                reader.GetString(1),
                Enum.Parse<KeyRole>(reader.GetString(2), ignoreCase: true),
                reader.GetFieldValue<byte[]>(3),
                reader.GetString(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                OptionalTime(reader, 6),
                OptionalTime(reader, 7),
                reader.GetBoolean(8))
            {
                Description = reader.IsDBNull(9) ? null : reader.GetString(9),
                Models = reader.IsDBNull(10) ? [] : reader.GetFieldValue<string[]>(10),
                Limits = new KeyLimits(
                    reader.IsDBNull(11) ? null : reader.GetInt32(11),
                    reader.IsDBNull(12) ? null : reader.GetInt64(12),
                    reader.IsDBNull(13) ? null : reader.GetInt64(13),
                    reader.IsDBNull(14) ? null : reader.GetInt32(14)),
                LastUsedAt = OptionalTime(reader, 15),
                PreviousHash = reader.IsDBNull(16) ? null : reader.GetFieldValue<byte[]>(16),
                PreviousValidUntil = OptionalTime(reader, 17),
            });
        }

        return keys;
    }

    public async Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken) =>
        await ChangeAsync(StoreTopic.Keys, $"""
            INSERT INTO api_keys ({KeyColumns})
            VALUES ($1, $2, $3, $4, $5, $15, $6, NULL, $7, $8, $9, $10, $11, $12, $13, NULL, $14, $16);
            """, command =>
            {
                BindKey(command, key);
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = key.CreatedAt.ToUniversalTime() });
                command.Parameters.Add(Time(key.PreviousValidUntil));
            }, cancellationToken);

    public async Task<bool> UpdateKeyAsync(StoredKey key, CancellationToken cancellationToken) =>
        await ChangeAsync(StoreTopic.Keys, """
            UPDATE api_keys SET name = $2, role = $3, hash = $4, hint = $5, expires_at = $6, asserts_users = $7,
                description = $8, models = $9, requests_per_minute = $10, tokens_per_minute = $11, tokens_per_day = $12,
                max_concurrency = $13, previous_hash = $14, previous_until = $15
            WHERE id = $1 AND revoked_at IS NULL;
            """, command =>
            {
                BindKey(command, key);
                command.Parameters.Add(Time(key.PreviousValidUntil));
            }, cancellationToken) > 0;

    public async Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) =>
        await ChangeAsync(StoreTopic.Keys, "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL;", command =>
        {
            command.Parameters.Add(Text(id));
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at.ToUniversalTime() });
        }, cancellationToken) > 0;

    // Not a change the others are told of: when a key was last used is shown, never acted on, and every Corral writes
    // it every minute or so.
    public async Task RecordKeyUseAsync(IReadOnlyCollection<(string Id, DateTimeOffset At)> uses, CancellationToken cancellationToken)
    {
        if (uses.Count == 0)
        {
            return;
        }

        await using var command = _dataSource.CreateCommand("""
            UPDATE api_keys k SET last_used_at = u.at
            FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
            WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at);
            """);
        // One row per key: a key named twice would be updated from either row, not necessarily the later.
        var latest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (id, at) in uses)
        {
            if (!latest.TryGetValue(id, out var known) || at > known)
            {
                latest[id] = at;
            }
        }

        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. latest.Keys.Select(PostgresText.Clean)] });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. latest.Values.Select(t => t.ToUniversalTime())] });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // $1 id, $2 name, $3 role, $4 hash, $5 hint, $6 expires, $7 asserts users, $8 description, $9 models, $10 to $13
    // the limits, $14 the previous hash.
    private static void BindKey(NpgsqlCommand command, StoredKey key)
    {
        command.Parameters.Add(Text(key.Id));
        command.Parameters.Add(Text(key.Name));
        command.Parameters.Add(Text(key.Role.ToString().ToLowerInvariant()));
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = key.Hash });
        command.Parameters.Add(Text(key.Hint));
        command.Parameters.Add(Time(key.ExpiresAt));
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = key.AssertsUsers });
        command.Parameters.Add(Text(key.Description));
        command.Parameters.Add(key.Models.Count == 0
            ? new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = DBNull.Value }
            : new NpgsqlParameter<string[]> { TypedValue = [.. key.Models.Select(PostgresText.Clean)] });
        command.Parameters.Add(Number(key.Limits.RequestsPerMinute, NpgsqlDbType.Integer));
        command.Parameters.Add(Number(key.Limits.TokensPerMinute, NpgsqlDbType.Bigint));
        command.Parameters.Add(Number(key.Limits.TokensPerDay, NpgsqlDbType.Bigint));
        command.Parameters.Add(Number(key.Limits.MaxConcurrency, NpgsqlDbType.Integer));
        command.Parameters.Add(key.PreviousHash is null
            ? new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = DBNull.Value }
            : new NpgsqlParameter<byte[]> { TypedValue = key.PreviousHash });
    }

    public async Task<IReadOnlyList<StoredBackend>> ListBackendsAsync(CancellationToken cancellationToken) =>
        [.. (await ListDefinitionsAsync("backends", "options", cancellationToken)).Select(r => new StoredBackend(r.Name, r.Json, r.UpdatedAt))];

    public Task SaveBackendAsync(StoredBackend backend, CancellationToken cancellationToken) =>
        SaveDefinitionAsync(StoreTopic.Backends, "backends", "options", backend.Name, backend.OptionsJson, backend.UpdatedAt, cancellationToken);

    public Task<bool> DeleteBackendAsync(string name, CancellationToken cancellationToken) => DeleteDefinitionAsync(StoreTopic.Backends, "backends", name, cancellationToken);

    public async Task<IReadOnlyList<StoredPreset>> ListPresetsAsync(CancellationToken cancellationToken) =>
        [.. (await ListDefinitionsAsync("presets", "definition", cancellationToken)).Select(r => new StoredPreset(r.Name, r.Json, r.UpdatedAt))];

    public Task SavePresetAsync(StoredPreset preset, CancellationToken cancellationToken) =>
        SaveDefinitionAsync(StoreTopic.Presets, "presets", "definition", preset.Name, preset.DefinitionJson, preset.UpdatedAt, cancellationToken);

    public Task<bool> DeletePresetAsync(string name, CancellationToken cancellationToken) => DeleteDefinitionAsync(StoreTopic.Presets, "presets", name, cancellationToken);

    // Backends and presets added through the admin API are kept alike: a name, compared without case as in SQLite,
    // and its JSON, in the order first added. The table and column names are this class's constants, never input.
    private async Task<List<(string Name, string Json, DateTimeOffset UpdatedAt)>> ListDefinitionsAsync(string table, string column, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand($"SELECT name, {column}, updated_at FROM {table} ORDER BY created_at, id;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(string, string, DateTimeOffset)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
        }

        return rows;
    }

    private async Task SaveDefinitionAsync(StoreTopic topic, string table, string column, string name, string json, DateTimeOffset at, CancellationToken cancellationToken) =>
        await ChangeAsync(topic, $"""
            INSERT INTO {table} (name, {column}, created_at, updated_at) VALUES ($1, $2, $3, $3)
            ON CONFLICT ((lower(name))) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at;
            """, command =>
            {
                command.Parameters.Add(Text(name));
                command.Parameters.Add(Text(json));
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at.ToUniversalTime() });
            }, cancellationToken);

    private async Task<bool> DeleteDefinitionAsync(StoreTopic topic, string table, string name, CancellationToken cancellationToken) =>
        await ChangeAsync(topic, $"DELETE FROM {table} WHERE lower(name) = lower($1);", command => command.Parameters.Add(Text(name)), cancellationToken) > 0;

    public async Task AddAuditEventAsync(AuditEvent audit, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            INSERT INTO audit_events (time_ms, key_id, key_name, address, action, target, outcome)
            VALUES ($1, $2, $3, $4, $5, $6, $7);
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = audit.Time.ToUnixTimeMilliseconds() });
        command.Parameters.Add(Text(audit.KeyId));
        command.Parameters.Add(Text(audit.KeyName));
        command.Parameters.Add(Text(audit.Address));
        command.Parameters.Add(Text(audit.Action));
        command.Parameters.Add(Text(audit.Target));
        command.Parameters.Add(Text(audit.Outcome));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEvent>> ListAuditEventsAsync(AuditFilter filter, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand("""
            SELECT time_ms, key_id, key_name, address, action, target, outcome FROM audit_events
            WHERE time_ms >= $1 AND time_ms < $2
              AND ($4::text IS NULL OR action = $4 OR starts_with(action, $5))
              AND ($6::text IS NULL OR key_id = $6 OR key_name = $6)
            ORDER BY time_ms DESC, id DESC LIMIT $3;
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = filter.From?.ToUnixTimeMilliseconds() ?? long.MinValue });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = filter.To?.ToUnixTimeMilliseconds() ?? long.MaxValue });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = filter.Limit });
        command.Parameters.Add(Text(filter.Action));
        command.Parameters.Add(Text(filter.ActionPrefix));
        command.Parameters.Add(Text(filter.Actor));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(StoredRows.AuditEvent(reader));
        }

        return events;
    }

    // The container disposes the store once for each interface it was resolved as.
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _dataSource.Dispose();
        }
    }

    /// <summary>A new connection of its own, outside the pool, not opened yet (the usage writer's, the listener's).</summary>
    internal NpgsqlConnection CreateDedicatedConnection() => new(_dedicatedConnectionString);

    public async Task<QuotaLease> LeaseAsync(QuotaRequest request, CancellationToken cancellationToken)
    {
        // One statement, so one round trip: the row is created full if it is new, then locked, refilled to now at
        // capacity/window per second (never above capacity), given back to, and leased from.
        await using var command = _dataSource.CreateCommand("""
            WITH created AS (
                INSERT INTO rate_buckets (key_id, rate, level, updated_at) VALUES ($1, $2, $3, clock_timestamp())
                ON CONFLICT (key_id, rate) DO NOTHING
            ),
            refilled AS (
                SELECT LEAST($3, level + EXTRACT(EPOCH FROM clock_timestamp() - updated_at) * ($3 / $4)) + $5 AS level
                FROM rate_buckets WHERE key_id = $1 AND rate = $2 FOR UPDATE
            ),
            leased AS (
                SELECT level, LEAST($6, GREATEST(0, floor(level))) AS taken FROM refilled
            )
            UPDATE rate_buckets b SET level = l.level - l.taken, updated_at = clock_timestamp()
            FROM leased l WHERE b.key_id = $1 AND b.rate = $2
            RETURNING l.taken, b.level;
            """);
        command.Parameters.Add(Text(request.KeyId));
        command.Parameters.Add(Text(request.Rate));
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = request.Capacity });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = request.Window.TotalSeconds });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = request.GiveBack });
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = request.Wanted });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            // The row was created by this very statement, which cannot see it yet: it is full, so lease from that.
            await reader.DisposeAsync();
            return await LeaseAsync(request, cancellationToken);
        }

        return new QuotaLease(reader.GetDouble(0), reader.GetDouble(1));
    }

    // Runs one statement in a transaction and, when it changed a row, notifies the other Corrals in the same transaction
    // (a notification is sent at commit, so they read the change once it is there); returns the rows changed.
    private async Task<int> ChangeAsync(StoreTopic topic, string sql, Action<NpgsqlCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        int changed;
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            bind(command);
            changed = await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (changed > 0)
        {
            await using var notify = new NpgsqlCommand($"SELECT pg_notify('{ChangesChannel}', $1);", connection, transaction);
            notify.Parameters.Add(Text(Payload(topic, InstanceId)));
            await notify.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return changed;
    }

    /// <summary>A notification's payload: the topic's name, a space, the id of the store that wrote.</summary>
    internal static string Payload(StoreTopic topic, string instanceId) => topic.ToString().ToLowerInvariant() + " " + instanceId;

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter Text(string? value) => value is null
        ? new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = DBNull.Value }
        : new NpgsqlParameter<string> { TypedValue = PostgresText.Clean(value) };

    private static NpgsqlParameter Time(DateTimeOffset? value) => value is { } time
        ? new NpgsqlParameter<DateTimeOffset> { TypedValue = time.ToUniversalTime() }
        : new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = DBNull.Value };

    private static NpgsqlParameter Number(long? value, NpgsqlDbType type) => new()
    {
        NpgsqlDbType = type,
        Value = value is not { } v ? DBNull.Value : type == NpgsqlDbType.Integer ? (object)(int)v : v,
    };

    private static DateTimeOffset? OptionalTime(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

}
