using System.Globalization;
using Corral.Access;
using Microsoft.Data.Sqlite;

namespace Corral.Storage;

/// <summary>
/// The embedded SQLite store: one file, <c>corral.db</c>, in the data folder: API keys, API-added backends, usage
/// records and their rollups (SqliteStore.Usage.cs; see Storage/README.md).
/// </summary>
internal sealed partial class SqliteStore : IKeyStore, IBackendStore
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

    public async Task<IReadOnlyList<StoredKey>> ListKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, role, hash, hint, created_at, expires_at, revoked_at, asserts_users FROM api_keys ORDER BY created_at, id;";
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
                reader.IsDBNull(6) ? null : ParseTime(reader.GetString(6)),
                reader.IsDBNull(7) ? null : ParseTime(reader.GetString(7)),
                reader.GetInt64(8) != 0));
        }

        return keys;
    }

    public async Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO api_keys (id, name, role, hash, hint, created_at, expires_at, revoked_at, asserts_users)
            VALUES ($id, $name, $role, $hash, $hint, $created, $expires, NULL, $asserts);
            """;
        command.Parameters.AddWithValue("$id", key.Id);
        command.Parameters.AddWithValue("$name", key.Name);
        command.Parameters.AddWithValue("$role", key.Role.ToString().ToLowerInvariant());
        command.Parameters.AddWithValue("$hash", key.Hash);
        command.Parameters.AddWithValue("$hint", key.Hint);
        command.Parameters.AddWithValue("$created", FormatTime(key.CreatedAt));
        command.Parameters.AddWithValue("$expires", key.ExpiresAt is { } e ? FormatTime(e) : DBNull.Value);
        command.Parameters.AddWithValue("$asserts", key.AssertsUsers ? 1 : 0);
        await command.ExecuteNonQueryAsync(cancellationToken);
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

    public async Task<IReadOnlyList<StoredBackend>> ListBackendsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, options, updated_at FROM backends ORDER BY created_at, rowid;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var backends = new List<StoredBackend>();
        while (await reader.ReadAsync(cancellationToken))
        {
            backends.Add(new StoredBackend(reader.GetString(0), reader.GetString(1), ParseTime(reader.GetString(2))));
        }

        return backends;
    }

    public async Task SaveBackendAsync(StoredBackend backend, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO backends (name, options, created_at, updated_at) VALUES ($name, $options, $at, $at)
            ON CONFLICT (name) DO UPDATE SET options = excluded.options, updated_at = excluded.updated_at;
            """;
        command.Parameters.AddWithValue("$name", backend.Name);
        command.Parameters.AddWithValue("$options", backend.OptionsJson);
        command.Parameters.AddWithValue("$at", FormatTime(backend.UpdatedAt));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> DeleteBackendAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM backends WHERE name = $name;";
        command.Parameters.AddWithValue("$name", name);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
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
