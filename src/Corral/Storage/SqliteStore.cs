using System.Globalization;
using Corral.Access;
using Microsoft.Data.Sqlite;

namespace Corral.Storage;

/// <summary>
/// The embedded SQLite store: one file, <c>corral.db</c>, in the data folder: API keys, API-added backends, usage
/// records and their rollups (SqliteStore.Usage.cs; see Storage/README.md).
/// </summary>
internal sealed partial class SqliteStore : IKeyStore, IBackendStore, IPresetStore, IAuditStore
{
    // Each entry upgrades the schema by one version (PRAGMA user_version); never edit a shipped entry.
    private static readonly string[] s_migrations =
    [
        """
        CREATE TABLE api_keys (
            id          TEXT PRIMARY KEY,
            name        TEXT NOT NULL,
            role        TEXT NOT NULL,
            hash        BLOB NOT NULL UNIQUE,
            hint        TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            expires_at  TEXT NULL,
            revoked_at  TEXT NULL
        );
        """,
        """
        CREATE TABLE backends (
            name        TEXT PRIMARY KEY COLLATE NOCASE,
            options     TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        );
        """,
        """
        ALTER TABLE api_keys ADD COLUMN asserts_users INTEGER NOT NULL DEFAULT 0;
        """,
        // Usage (see Storage/README.md): names are stored once (usage_names) and referred to by id; times are unix ms,
        // durations µs. A record's id is its time_ms × 2^20 + a sequence number, so the table is kept in time order and
        // a range of time is a range of ids, without the cost of a second index on every insert.
        """
        CREATE TABLE usage_names (
            id    INTEGER PRIMARY KEY,
            name  TEXT NOT NULL UNIQUE
        );
        CREATE TABLE usage_records (
            id                 INTEGER PRIMARY KEY,
            time_ms            INTEGER NOT NULL,
            key_id             INTEGER NULL,
            key_name           INTEGER NULL,
            end_user           INTEGER NULL,
            route              INTEGER NOT NULL,
            model              INTEGER NULL,
            resolved_model     INTEGER NULL,
            backend            INTEGER NULL,
            status             INTEGER NOT NULL,
            error              TEXT NULL,
            prompt_tokens      INTEGER NOT NULL,
            completion_tokens  INTEGER NOT NULL,
            queue_us           INTEGER NOT NULL,
            ttft_us            INTEGER NULL,
            duration_us        INTEGER NOT NULL,
            overhead_us        INTEGER NOT NULL,
            bytes_in           INTEGER NOT NULL,
            bytes_out          INTEGER NOT NULL,
            attempts           INTEGER NOT NULL,
            cancelled          INTEGER NOT NULL
        );
        CREATE TABLE usage_hourly (
            hour_ms             INTEGER NOT NULL,
            key_id              INTEGER NOT NULL,
            key_name            INTEGER NOT NULL,
            end_user            INTEGER NOT NULL,
            route               INTEGER NOT NULL,
            model               INTEGER NOT NULL,
            backend             INTEGER NOT NULL,
            status              INTEGER NOT NULL,
            requests            INTEGER NOT NULL,
            errors              INTEGER NOT NULL,
            prompt_tokens       INTEGER NOT NULL,
            completion_tokens   INTEGER NOT NULL,
            ttft_histogram      BLOB NOT NULL,
            duration_histogram  BLOB NOT NULL,
            PRIMARY KEY (hour_ms, key_id, key_name, end_user, route, model, backend, status)
        ) WITHOUT ROWID;
        """,
        // Keys with allow-lists (models: a JSON array), limits, their last use and rotation (the previous secret's
        // hash works until previous_until).
        """
        ALTER TABLE api_keys ADD COLUMN description TEXT NULL;
        ALTER TABLE api_keys ADD COLUMN models TEXT NULL;
        ALTER TABLE api_keys ADD COLUMN requests_per_minute INTEGER NULL;
        ALTER TABLE api_keys ADD COLUMN tokens_per_minute INTEGER NULL;
        ALTER TABLE api_keys ADD COLUMN tokens_per_day INTEGER NULL;
        ALTER TABLE api_keys ADD COLUMN max_concurrency INTEGER NULL;
        ALTER TABLE api_keys ADD COLUMN last_used_at TEXT NULL;
        ALTER TABLE api_keys ADD COLUMN previous_hash BLOB NULL;
        ALTER TABLE api_keys ADD COLUMN previous_until TEXT NULL;
        """,
        // The admin actions, in the order they happened (time_ms: unix ms).
        """
        CREATE TABLE audit_events (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            time_ms   INTEGER NOT NULL,
            key_id    TEXT NULL,
            key_name  TEXT NULL,
            address   TEXT NULL,
            action    TEXT NOT NULL,
            target    TEXT NULL,
            outcome   TEXT NOT NULL
        );
        CREATE INDEX audit_events_time ON audit_events (time_ms);
        """,
        // The count and sum of the rollups' times to first byte, for their average; 0 in the hours rolled up before.
        """
        ALTER TABLE usage_hourly ADD COLUMN ttft_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE usage_hourly ADD COLUMN ttft_sum_us INTEGER NOT NULL DEFAULT 0;
        """,
        // Model presets added through the admin API (definition: the JSON of the body), as backends are kept.
        """
        CREATE TABLE presets (
            name        TEXT PRIMARY KEY COLLATE NOCASE,
            definition  TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        );
        """,
    ];

    private readonly string _connectionString;

    public SqliteStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        DatabasePath = Path.GetFullPath(Path.Combine(dataDirectory, "corral.db"));
        _connectionString = new SqliteConnectionStringBuilder { DataSource = DatabasePath, Pooling = true }.ToString();
    }

    public string DatabasePath { get; }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        SQLitePCL.Batteries_V2.Init();
        await using var connection = await OpenAsync(cancellationToken);
        await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
        var version = Convert.ToInt32(await ScalarAsync(connection, "PRAGMA user_version;", cancellationToken), CultureInfo.InvariantCulture);
        for (var next = version; next < s_migrations.Length; next++)
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, s_migrations[next], cancellationToken, transaction);
            await ExecuteAsync(connection, $"PRAGMA user_version = {next + 1};", cancellationToken, transaction);
            await transaction.CommitAsync(cancellationToken);
        }
    }

    private const string KeyColumns = "id, name, role, hash, hint, created_at, expires_at, revoked_at, asserts_users, description, models, "
        + "requests_per_minute, tokens_per_minute, tokens_per_day, max_concurrency, last_used_at, previous_hash, previous_until";

    public async Task<IReadOnlyList<StoredKey>> ListKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {KeyColumns} FROM api_keys ORDER BY created_at, id;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<StoredKey>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(new StoredKey(
                reader.GetString(0),
                reader.GetString(1),
                Enum.Parse<KeyRole>(reader.GetString(2), ignoreCase: true),
                (byte[])reader.GetValue(3),
                reader.GetString(4),
                ParseTime(reader.GetString(5)),
                OptionalTime(reader, 6),
                OptionalTime(reader, 7),
                reader.GetInt64(8) != 0)
            {
                Description = reader.IsDBNull(9) ? null : reader.GetString(9),
                Models = reader.IsDBNull(10) ? [] : System.Text.Json.JsonSerializer.Deserialize(reader.GetString(10), Hosting.CorralJsonContext.Default.StringArray) ?? [],
                Limits = new KeyLimits(
                    reader.IsDBNull(11) ? null : reader.GetInt32(11),
                    reader.IsDBNull(12) ? null : reader.GetInt64(12),
                    reader.IsDBNull(13) ? null : reader.GetInt64(13),
                    reader.IsDBNull(14) ? null : reader.GetInt32(14)),
                LastUsedAt = OptionalTime(reader, 15),
                PreviousHash = reader.IsDBNull(16) ? null : (byte[])reader.GetValue(16),
                PreviousValidUntil = OptionalTime(reader, 17),
            });
        }

        return keys;
    }

    public async Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO api_keys ({KeyColumns})
            VALUES ($id, $name, $role, $hash, $hint, $created, $expires, NULL, $asserts, $description, $models,
                    $rpm, $tpm, $tpd, $concurrency, NULL, $previous, $previousUntil);
            """;
        BindKey(command, key);
        command.Parameters.AddWithValue("$created", FormatTime(key.CreatedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> UpdateKeyAsync(StoredKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            UPDATE api_keys SET name = $name, role = $role, hash = $hash, hint = $hint, expires_at = $expires,
                asserts_users = $asserts, description = $description, models = $models, requests_per_minute = $rpm,
                tokens_per_minute = $tpm, tokens_per_day = $tpd, max_concurrency = $concurrency,
                previous_hash = $previous, previous_until = $previousUntil
            WHERE id = $id AND revoked_at IS NULL;
            """;
        BindKey(command, key);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE api_keys SET revoked_at = $at WHERE id = $id AND revoked_at IS NULL;";
        command.Parameters.AddWithValue("$id", id);
        command.Parameters.AddWithValue("$at", FormatTime(at));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task RecordKeyUseAsync(IReadOnlyCollection<(string Id, DateTimeOffset At)> uses, CancellationToken cancellationToken)
    {
        if (uses.Count == 0)
        {
            return;
        }

        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        // Times are ISO 8601 in UTC with a fixed width, so text order is time order.
        command.CommandText = "UPDATE api_keys SET last_used_at = $at WHERE id = $id AND (last_used_at IS NULL OR last_used_at < $at);";
        var id = command.Parameters.Add("$id", SqliteType.Text);
        var at = command.Parameters.Add("$at", SqliteType.Text);
        foreach (var use in uses)
        {
            id.Value = use.Id;
            at.Value = FormatTime(use.At);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static void BindKey(SqliteCommand command, StoredKey key)
    {
        command.Parameters.AddWithValue("$id", key.Id);
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$role", key.Role.ToString().ToLowerInvariant());
        command.Parameters.AddWithValue("$hash", key.Hash);
        command.Parameters.AddWithValue("$hint", key.Hint);
        command.Parameters.AddWithValue("$expires", Nullable(key.ExpiresAt is { } e ? FormatTime(e) : null));
        command.Parameters.AddWithValue("$asserts", key.AssertsUsers ? 1 : 0);
        command.Parameters.AddWithValue("$description", Nullable(key.Description));
        command.Parameters.AddWithValue("$models", Nullable(key.Models.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize([.. key.Models], Hosting.CorralJsonContext.Default.StringArray)));
        command.Parameters.AddWithValue("$rpm", Nullable(key.Limits.RequestsPerMinute));
        command.Parameters.AddWithValue("$tpm", Nullable(key.Limits.TokensPerMinute));
        command.Parameters.AddWithValue("$tpd", Nullable(key.Limits.TokensPerDay));
        command.Parameters.AddWithValue("$concurrency", Nullable(key.Limits.MaxConcurrency));
        command.Parameters.AddWithValue("$previous", Nullable(key.PreviousHash));
        command.Parameters.AddWithValue("$previousUntil", Nullable(key.PreviousValidUntil is { } p ? FormatTime(p) : null));
    }

    private static object Nullable(object? value) => value ?? DBNull.Value;

    private static DateTimeOffset? OptionalTime(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : ParseTime(reader.GetString(ordinal));

    public async Task<IReadOnlyList<StoredBackend>> ListBackendsAsync(CancellationToken cancellationToken) =>
        [.. (await ListDefinitionsAsync("backends", "options", cancellationToken)).Select(r => new StoredBackend(r.Name, r.Json, r.UpdatedAt))];

    public Task SaveBackendAsync(StoredBackend backend, CancellationToken cancellationToken) =>
        SaveDefinitionAsync("backends", "options", backend.Name, backend.OptionsJson, backend.UpdatedAt, cancellationToken);

    public Task<bool> DeleteBackendAsync(string name, CancellationToken cancellationToken) => DeleteDefinitionAsync("backends", name, cancellationToken);

    public async Task<IReadOnlyList<StoredPreset>> ListPresetsAsync(CancellationToken cancellationToken) =>
        [.. (await ListDefinitionsAsync("presets", "definition", cancellationToken)).Select(r => new StoredPreset(r.Name, r.Json, r.UpdatedAt))];

    public Task SavePresetAsync(StoredPreset preset, CancellationToken cancellationToken) =>
        SaveDefinitionAsync("presets", "definition", preset.Name, preset.DefinitionJson, preset.UpdatedAt, cancellationToken);

    public Task<bool> DeletePresetAsync(string name, CancellationToken cancellationToken) => DeleteDefinitionAsync("presets", name, cancellationToken);

    // Backends and presets added through the admin API are kept alike: a name (without case) and its JSON, in the
    // order first added. The table and column names are this class's constants, never input.
    private async Task<List<(string Name, string Json, DateTimeOffset UpdatedAt)>> ListDefinitionsAsync(string table, string column, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name, {column}, updated_at FROM {table} ORDER BY created_at, rowid;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(string, string, DateTimeOffset)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add((reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))));
        }

        return rows;
    }

    private async Task SaveDefinitionAsync(string table, string column, string name, string json, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO {table} (name, {column}, created_at, updated_at) VALUES ($name, $json, $at, $at)
            ON CONFLICT (name) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at;
            """;
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$json", json);
        command.Parameters.AddWithValue("$at", FormatTime(at));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<bool> DeleteDefinitionAsync(string table, string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"DELETE FROM {table} WHERE name = $name;";
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task AddAuditEventAsync(AuditEvent audit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO audit_events (time_ms, key_id, key_name, address, action, target, outcome)
            VALUES ($time, $keyId, $keyName, $address, $action, $target, $outcome);
            """;
        command.Parameters.AddWithValue("$time", audit.Time.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$keyId", Nullable(audit.KeyId));
        command.Parameters.AddWithValue("$keyName", Nullable(audit.KeyName));
        command.Parameters.AddWithValue("$address", Nullable(audit.Address));
        command.Parameters.AddWithValue("$action", audit.Action);
        command.Parameters.AddWithValue("$target", Nullable(audit.Target));
        command.Parameters.AddWithValue("$outcome", audit.Outcome);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<AuditEvent>> ListAuditEventsAsync(AuditFilter filter, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT time_ms, key_id, key_name, address, action, target, outcome FROM audit_events
            WHERE time_ms >= $from AND time_ms < $to
              AND ($action IS NULL OR action = $action OR substr(action, 1, length($prefix)) = $prefix)
              AND ($actor IS NULL OR key_id = $actor OR key_name = $actor)
            ORDER BY time_ms DESC, id DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$from", filter.From?.ToUnixTimeMilliseconds() ?? long.MinValue);
        command.Parameters.AddWithValue("$to", filter.To?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        command.Parameters.AddWithValue("$action", Nullable(filter.Action));
        command.Parameters.AddWithValue("$prefix", Nullable(filter.ActionPrefix));
        command.Parameters.AddWithValue("$actor", Nullable(filter.Actor));
        command.Parameters.AddWithValue("$limit", filter.Limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(StoredRows.AuditEvent(reader));
        }

        return events;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqliteTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
