using System.CommandLine;
using Corral.Storage;

namespace Corral.Cli;

/// <summary>
/// <c>corral migrate</c>: a Corral's embedded SQLite store copied into PostgreSQL, for one that grows into several
/// Corrals on one database (<see cref="StoreMigration"/>). Stop the Corral first; start it again with
/// <c>--database</c>.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data")
        {
            HelpName = "DIR",
            Description = "The data folder of the Corral to move, holding its corral.db. Env CORRAL_DATA. Default ./data.",
        };
        var database = new Option<string>("--database")
        {
            HelpName = "URL",
            Description = "The PostgreSQL database to move it to, holding no Corral data yet: postgres://user:password@host:5432/db[?sslmode=require] or an Npgsql connection string. Env CORRAL_DATABASE. Its schema is created.",
        };
        var command = new Command(
            "migrate",
            "Copy a Corral's SQLite store (keys, backends and presets added through the admin API, audit, usage records) into an empty PostgreSQL database. Stop that Corral first, then start it with --database. Clients keep their keys; hourly usage older than the records kept is not carried over.")
        {
            data,
            database,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var folder = parse.GetValue(data) ?? (Environment.GetEnvironmentVariable("CORRAL_DATA") is { Length: > 0 } fromEnv ? fromEnv : "data");
            var text = parse.GetValue(database) ?? Environment.GetEnvironmentVariable("CORRAL_DATABASE");
            return await RunAsync(folder, text, Console.Out, Console.Error, cancellationToken);
        });
        return command;
    }

    /// <summary>Runs the migration; 0 when everything was copied, 1 when nothing was (and why is written).</summary>
    public static async Task<int> RunAsync(string dataFolder, string? databaseText, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(databaseText))
        {
            await errors.WriteLineAsync("--database is required: the PostgreSQL database to move to (postgres://user:password@host:5432/db)");
            return 1;
        }

        if (PostgresDatabase.TryParse(databaseText, out var problem) is not { } connectionString)
        {
            await errors.WriteLineAsync($"--database: {problem}");
            return 1;
        }

        var file = Path.Combine(Path.GetFullPath(dataFolder), "corral.db");
        if (!File.Exists(file))
        {
            await errors.WriteLineAsync($"--data: {file} does not exist: give the data folder of the Corral to move (--data of its corral serve)");
            return 1;
        }

        await output.WriteLineAsync($"Moving {file} to {PostgresDatabase.Describe(connectionString)} ...");
        using var target = new PostgresStore(connectionString);
        try
        {
            var (counts, refused) = await new StoreMigration(new SqliteStore(dataFolder), target, TimeProvider.System, output).RunAsync(cancellationToken);
            if (counts is null)
            {
                await errors.WriteLineAsync($"Nothing was copied: {refused}.");
                return 1;
            }

            await output.WriteLineAsync(
                $"Done: {counts.Keys} keys, {counts.Backends} backends, {counts.Presets} presets, {counts.AuditEvents} audit events, {counts.UsageRecords} usage records. "
                + $"Start Corral with --database {PostgresDatabase.Describe(connectionString)} (the SQLite file is left as it was).");
            return 0;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            await errors.WriteLineAsync($"The migration stopped: {PostgresDatabase.WithoutPassword(e.Message, connectionString)}. The PostgreSQL database may hold part of the data: drop it and create it again before the next try.");
            return 1;
        }
    }
}
