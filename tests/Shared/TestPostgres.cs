using Npgsql;

namespace Corral.Testing;

/// <summary>
/// The PostgreSQL server the store's tests use: the connection string in <c>CORRAL_TEST_POSTGRES</c> (of a role that
/// may create databases; .ci/run sets it up). Each test makes a database of its own on it and drops it after.
/// </summary>
internal static class TestPostgres
{
    public const string Variable = "CORRAL_TEST_POSTGRES";

    private static readonly Lazy<string?> s_skipReason = new(Check);

    /// <summary>Why PostgreSQL tests cannot run here (the variable is not set, or the server does not answer); null when they can.</summary>
    public static string? SkipReason => s_skipReason.Value;

    private static string ServerConnectionString => Environment.GetEnvironmentVariable(Variable)
        ?? throw new InvalidOperationException($"{Variable} is not set");

    /// <summary>Creates an empty database, <c>corral_test_</c> and a new GUID.</summary>
    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = "corral_test_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(ServerConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name};", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new TestDatabase(name, new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString, ServerConnectionString);
    }

    private static string? Check()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return $"{Variable} is not set: give it the connection string of a PostgreSQL role that may create databases (.ci/run does).";
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(text) { Timeout = 5, Pooling = false };
            using var connection = new NpgsqlConnection(builder.ConnectionString);
            connection.Open();
            using var command = new NpgsqlCommand("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user;", connection);
            return command.ExecuteScalar() is true ? null : $"the role of {Variable} may not create databases (ALTER ROLE ... CREATEDB).";
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or TimeoutException)
        {
            return $"the PostgreSQL server of {Variable} cannot be reached: {e.Message}";
        }
    }
}

/// <summary>A database made for one test: dropped (with whatever is still connected to it) when disposed.</summary>
internal sealed class TestDatabase(string name, string connectionString, string serverConnectionString) : IAsyncDisposable
{
    public string Name { get; } = name;

    /// <summary>Its connection string, password included: for the test's store, never for output.</summary>
    public string ConnectionString { get; } = connectionString;

    /// <summary>Runs a statement on the database (on a connection of its own) and returns the first column of the first row.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // Pooled connections to the database (a test's own NpgsqlConnection) would be broken once it is gone.
        using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE);", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
