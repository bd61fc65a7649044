using System.Net;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Storage;

/// <summary><c>corral migrate</c>: a Corral on SQLite moved to PostgreSQL keeps its keys, backends, presets, audit and usage.</summary>
public sealed class MigrateTests
{
    private const string Chat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""";

    [PostgresFact]
    public async Task Migrate_SqliteCorral_ToPostgres_TheSameKeysWorkAndEverythingIsThere_ASecondRunIsRefused()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sim = await Sim.StartAsync("llama3.2", "qwen3");
        await using var other = await Sim.StartAsync("llama3.2");
        var data = Path.Combine(Path.GetTempPath(), "corral-ft-" + Guid.NewGuid().ToString("N"));
        try
        {
            string secret, revoked;
            await using (var before = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "a")], dataDirectory: data))
            {
                using var admin = before.Client();
                (_, secret) = await before.CreateKeyFromAsync("""{"name":"laptop","role":"user","models":["llama3*","support-bot"],"requestsPerMinute":60}""");
                (var revokedId, revoked) = await before.CreateKeyFromAsync("""{"name":"old","role":"user"}""");
                (await admin.DeleteAsync("/admin/api/keys/" + revokedId)).StatusCode.Should().Be(HttpStatusCode.NoContent);
                (await admin.PostJsonAsync("/admin/api/presets", """{"name":"support-bot","model":"llama3.2","system":"Be kind."}""")).StatusCode.Should().Be(HttpStatusCode.Created);
                (await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"b","url":"{{other.BaseAddress.ToString().TrimEnd('/')}}"}""")).StatusCode.Should().Be(HttpStatusCode.Created);
                using var user = before.Client(secret);
                for (var i = 0; i < 3; i++)
                {
                    (await user.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
                }

                await Eventually.ValueAsync(async () => (await (await admin.GetAsync("/admin/api/usage/requests?key=laptop")).JsonAsync()).GetProperty("requests").GetArrayLength(), n => n == 3, "the requests are stored", n => $"{n} are");
            }

            var (exitCode, output, error) = await CorralCli.RunAsync(["migrate", "--data", data, "--database", database.ConnectionString]);

            exitCode.Should().Be(0, output + error);
            output.Should().Contain("keys: 2").And.Contain("backends added through the admin API: 1").And.Contain("presets added through the admin API: 1")
                .And.Contain("Done:").And.Contain("Start Corral with --database");
            output.Should().NotContain(new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString).Password, "the password is never written");

            await using (var after = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "a")], s => s with { Database = database.ConnectionString }))
            {
                using var user = after.Client(secret);
                using var chat = await user.PostJsonAsync("/api/chat", Chat.Replace("llama3.2", "support-bot", StringComparison.Ordinal));
                chat.StatusCode.Should().Be(HttpStatusCode.OK, "the key, its allow-list and the preset came along");
                using var outside = await user.PostJsonAsync("/api/chat", Chat.Replace("llama3.2", "qwen3", StringComparison.Ordinal));
                outside.StatusCode.Should().Be(HttpStatusCode.NotFound, "and so did its allow-list");
                (await after.Client(revoked).GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a revoked key stays revoked");
                (await after.BackendStateAsync("b")).Should().NotBeNullOrEmpty();
                using var admin = after.Client();
                var requests = (await (await admin.GetAsync("/admin/api/usage/requests?key=laptop")).JsonAsync()).GetProperty("requests");
                requests.GetArrayLength().Should().BeGreaterThanOrEqualTo(3, "the usage records came along");
                var totals = await (await admin.GetAsync("/admin/api/usage?groupBy=key")).JsonAsync();
                totals.GetProperty("groups").EnumerateArray().Single(g => g.TryGetProperty("keyName", out var name) && name.GetString() == "laptop").GetProperty("requests").GetInt32()
                    .Should().BeGreaterThanOrEqualTo(3, "the rollups are made again from them");
                var audit = await (await admin.GetAsync("/admin/api/audit?action=key")).JsonAsync();
                audit.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("action").GetString()).Should().Contain(["key.create", "key.revoke"]);
            }

            var (again, _, refusal) = await CorralCli.RunAsync(["migrate", "--data", data, "--database", database.ConnectionString]);
            again.Should().Be(1);
            refusal.Should().Contain("already holds Corral data").And.Contain("keys").And.Contain("Nothing was copied");
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [PostgresFact]
    public async Task Migrate_UsageRecordsOverManyPages_SeveralInOneMillisecond_AllArrive()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var data = Path.Combine(Path.GetTempPath(), "corral-ft-" + Guid.NewGuid().ToString("N"));
        try
        {
            var source = new Corral.Storage.SqliteStore(data);
            await source.InitializeAsync(CancellationToken.None);
            var start = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
            // 3 records in each of 7 milliseconds: pages of 2 end inside a millisecond every time.
            var records = Enumerable.Range(0, 21).Select(i => new Corral.Usage.UsageRecord
            {
                Time = start.AddMilliseconds(i / 3),
                Route = "/api/chat",
                Status = 200,
                KeyName = "laptop",
                Model = "llama3.2",
                PromptTokens = i,
            }).ToArray();
            using (var writer = source.OpenUsageWriter())
            {
                writer.Write(records);
            }

            using var target = new Corral.Storage.PostgresStore(database.ConnectionString);
            var (counts, problem) = await new Corral.Storage.StoreMigration(source, target, TimeProvider.System, TextWriter.Null, usagePage: 4).RunAsync(CancellationToken.None);

            problem.Should().BeNull();
            counts!.UsageRecords.Should().Be(21);
            var copied = await target.ListUsageRecordsAsync(new Corral.Storage.UsageRecordFilter(DateTimeOffset.UnixEpoch, start.AddDays(1), null, null, 100), CancellationToken.None);
            copied.Select(r => r.PromptTokens).Order().Should().Equal(Enumerable.Range(0, 21), "every record once, none twice");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Migrate_NoDataOrNoDatabase_SaysWhatIsMissing()
    {
        var (noDatabase, _, missing) = await CorralCli.RunAsync(["migrate", "--data", Path.GetTempPath()]);
        var (noData, _, absent) = await CorralCli.RunAsync(["migrate", "--data", Path.Combine(Path.GetTempPath(), "corral-none-" + Guid.NewGuid().ToString("N")), "--database", "postgres://corral@127.0.0.1:1/corral"]);

        noDatabase.Should().Be(1);
        missing.Should().Contain("--database is required");
        noData.Should().Be(1);
        absent.Should().Contain("corral.db does not exist");
    }
}
