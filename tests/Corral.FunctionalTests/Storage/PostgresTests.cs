using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Storage;

/// <summary>A real Corral on PostgreSQL (<c>--database</c>): what a user sees is what they see on SQLite, and it survives a restart.</summary>
public sealed class PostgresTests
{
    private const string Chat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""";

    [PostgresFact]
    public async Task Corral_OnPostgres_KeyServesChatUsageListedAndAfterARestartTheKeyStillWorks()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sim = await Sim.StartAsync("llama3.2");
        string keyId;
        string key;
        await using (var corral = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "a")], s => s with { Database = database.ConnectionString }))
        {
            (keyId, key) = await CreateKeyAsync(corral, "laptop");
            using var client = corral.Client(key);
            (await client.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
            using var admin = corral.Client();

            var requests = await RequestsOfKeyAsync(admin, keyId, 1);

            requests.Single().GetProperty("model").GetString().Should().Be("llama3.2");
            File.Exists(Path.Combine(corral.DataDirectory, "corral.db")).Should().BeFalse("nothing is stored in SQLite");
        }

        // A stopped Corral holds no connection (its pool, usage writer and listener are closed).
        await Eventually.ValueAsync(
            () => database.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid();"),
            connections => connections is 0L,
            "the stopped Corral's connections are closed");

        // Another Corral (a new data folder) on the same database: the key, its usage and the schema are there.
        await using var again = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "a")], s => s with { Database = database.ConnectionString });
        using var sameKey = again.Client(key);
        (await sameKey.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        using var againAdmin = again.Client();
        (await RequestsOfKeyAsync(againAdmin, keyId, 2)).Should().HaveCount(2);
        (await database.ScalarAsync("SELECT count(*) FROM corral_migrations;")).Should().Be((long)Corral.Storage.PostgresStore.SchemaVersion);
    }

    [Fact]
    public async Task Serve_DatabaseNotThere_ExitsAtStartNamingDatabaseNeverThePassword()
    {
        var data = Path.Combine(Path.GetTempPath(), "corral-ft-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (exitCode, output) = await ServeAsync("--database", $"postgres://corral:s3cret-pw@127.0.0.1:{Ports.Free()}/corral", "--data", data);

            exitCode.Should().Be(2);
            output.Should().Contain("--database: cannot open the PostgreSQL database corral@127.0.0.1:").And.Contain("Corral did not start");
            output.Should().NotContain("s3cret-pw").And.NotContain("   at ", "no stack trace");
        }
        finally
        {
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Serve_DatabaseUrlBad_ExitsAtStartNamingDatabaseNeverThePassword()
    {
        var (exitCode, output) = await ServeAsync("--database", "postgres://corral:s3cret-pw@db:5432/corral?sslmode=always");

        exitCode.Should().Be(2);
        output.Should().Contain("--database: 'postgres://corral:***@db:5432/corral?sslmode=always': sslmode 'always' is not one of");
        output.Should().NotContain("s3cret-pw").And.NotContain("   at ");
    }

    private static async Task<(string Id, string Secret)> CreateKeyAsync(CorralInstance corral, string name)
    {
        using var admin = corral.Client();
        using var response = await admin.PostAsJsonAsync("/admin/api/keys", new { name, role = "user" });
        response.EnsureSuccessStatusCode();
        var body = await response.JsonAsync();
        return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
    }

    // The key's records as /admin/api/usage/requests lists them, once there are count of them, after checking that
    // /admin/api/usage counts as many.
    private static async Task<JsonElement[]> RequestsOfKeyAsync(HttpClient admin, string keyId, int count)
    {
        await Eventually.ValueAsync(
            async () => (await admin.GetFromJsonAsync<JsonElement>("/admin/api/usage?groupBy=key")).GetProperty("groups").EnumerateArray()
                .Where(g => g.GetProperty("group").GetString() == keyId).Sum(g => g.GetProperty("requests").GetInt64()),
            requests => requests == count,
            $"/admin/api/usage counts {count} requests of the key");
        var listed = await admin.GetFromJsonAsync<JsonElement>($"/admin/api/usage/requests?key={keyId}");
        return [.. listed.GetProperty("requests").EnumerateArray()];
    }

    // corral serve as its own process, its standard output and error together, once it has exited.
    private static async Task<(int ExitCode, string Output)> ServeAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[Path.Combine(AppContext.BaseDirectory, "corral.dll"), "serve", "--listen", "http://127.0.0.1:0",
            "--backend", $"http://127.0.0.1:{Ports.Free()}", "--admin-key", CorralInstance.AdminKey, "--request-log", "off", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Remove("CORRAL_DATABASE");
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start corral");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output + await error);
    }
}
