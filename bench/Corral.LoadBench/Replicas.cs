using System.Globalization;
using System.Text;
using Npgsql;

namespace Corral.LoadBench;

/// <summary>
/// The replicas scenario (<c>--only replicas</c>, with <c>--postgres CONNECTION</c> or CORRAL_TEST_POSTGRES): non-streamed
/// chat at c=64 through one Corral alone (SQLite), one Corral on PostgreSQL, and two Corral replicas on that
/// PostgreSQL behind nginx configured by <c>deploy/nginx.conf</c>, in turn every round.
/// </summary>
internal static class Replicas
{
    private const int Concurrency = 64;

    public static async Task<ReplicaFigures> RunAsync(BenchOptions options, string corralExecutable, string root, string work, string key)
    {
        var server = options.Postgres ?? Environment.GetEnvironmentVariable("CORRAL_TEST_POSTGRES")
            ?? throw new BenchmarkException("the replicas scenario needs PostgreSQL: --postgres CONNECTION (a role that may create databases) or CORRAL_TEST_POSTGRES");
        var name = "corral_bench_" + Guid.NewGuid().ToString("N");
        await ExecuteAsync(server, $"CREATE DATABASE {name};");
        try
        {
            var database = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
            var backendPort = Loopback.FreePort();
            using var fake = Nginx.StartFakeBackend(work, backendPort, Loopback.FreePort());
            var direct = $"http://127.0.0.1:{backendPort.ToString(CultureInfo.InvariantCulture)}";
            await Loopback.WaitUntilServingAsync(direct + "/api/version", fake, TimeSpan.FromSeconds(10));
            string[] backend = ["--backend", direct];
            using var alone = await CorralProcess.StartAsync(corralExecutable, "replicas-alone", work, key, backend, outputToFile: true);
            using var onPostgres = await CorralProcess.StartAsync(corralExecutable, "replicas-postgres", work, key, [.. backend, "--database", database], outputToFile: true);
            using var first = await CorralProcess.StartAsync(corralExecutable, "replica-1", work, key, [.. backend, "--database", database], outputToFile: true);
            using var second = await CorralProcess.StartAsync(corralExecutable, "replica-2", work, key, [.. backend, "--database", database], outputToFile: true);
            var proxyPort = Loopback.FreePort();
            using var proxy = Nginx.StartFromDeploy(root, work, proxyPort, [first.BaseAddress, second.BaseAddress]);
            var proxied = $"http://127.0.0.1:{proxyPort.ToString(CultureInfo.InvariantCulture)}";
            await Loopback.WaitUntilServingAsync(proxied + "/api/version", proxy, TimeSpan.FromSeconds(10), key);

            (string Name, string Url, string What)[] doors =
            [
                ("alone", alone.BaseAddress.ToString().TrimEnd('/'), "one Corral, its SQLite store"),
                ("postgres", onPostgres.BaseAddress.ToString().TrimEnd('/'), "one Corral on PostgreSQL"),
                ("replicas", proxied, "two Corrals on that PostgreSQL, behind nginx (deploy/nginx.conf)"),
            ];
            var script = Wrk.WriteScript(work, "replicas-chat", "POST", FakeAnswers.ChatRequest, key);
            Console.WriteLine("Warming up and settling ...");
            foreach (var door in doors)
            {
                var warm = await Wrk.RunAsync(door.Url + "/api/chat", script, 16, options.Quick ? 1 : 2);
                if (warm.Non2xx + warm.SocketErrors > 0)
                {
                    throw new BenchmarkException($"{door.Name} gave {warm.Non2xx} non-2xx answers and {warm.SocketErrors} socket errors while warming up");
                }

                await Settling.RunAsync(door.Url + "/api/chat", script, options, () => { });
            }

            var runs = doors.ToDictionary(d => d.Name, _ => new List<WrkResult>(), StringComparer.Ordinal);
            for (var round = 1; round <= options.Rounds; round++)
            {
                var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"replicas round {round}/{options.Rounds} c={Concurrency}");
                foreach (var door in doors)
                {
                    var result = await Wrk.RunAsync(door.Url + "/api/chat", script, Concurrency, options.DurationSeconds);
                    runs[door.Name].Add(result);
                    line.Append(CultureInfo.InvariantCulture, $"  {door.Name} {result.RequestsPerSecond,7:0} req/s p50 {Format.Us(result.P50Us)}");
                }

                Console.WriteLine(line);
            }

            return new ReplicaFigures([.. doors.Select(d => new ReplicaDoor(d.Name, d.What, TargetFigures.Of(runs[d.Name])!))], MachineInfo.LoadAverage());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS {name} WITH (FORCE);");
        }
    }

    public static string Method(BenchOptions options) => string.Create(CultureInfo.InvariantCulture, $"""
        Replicas (`--only replicas`): non-streamed `POST /api/chat` at c={Concurrency} through one Corral alone (SQLite), one Corral on a
        PostgreSQL database of this machine, and two Corrals on that database behind nginx with `deploy/nginx.conf` (its upstream
        replaced by the two, its port by a free one, its access log off), in turn every round, {options.Rounds} round(s) of
        {options.DurationSeconds} s, medians. Everything, PostgreSQL included, shares the machine's {Environment.ProcessorCount} cores.
        """);

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>The replicas scenario's doors, in the order they were driven each round.</summary>
internal sealed record ReplicaFigures(IReadOnlyList<ReplicaDoor> Doors, string LoadAverageAtEnd);

/// <summary>One door of the replicas scenario: c=64 medians over rounds.</summary>
internal sealed record ReplicaDoor(string Name, string Description, TargetFigures Throughput);
