using System.Net;
using Corral.FunctionalTests.Infrastructure;
using Npgsql;

namespace Corral.FunctionalTests.Replicas;

/// <summary>Two Corrals on one PostgreSQL act as one gateway: keys, backends, usage and rates are shared.</summary>
public sealed class ReplicaTests
{
    private const string Chat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":2}}""";

    /// <summary>A change on one replica is honoured by the other within this (the bound).</summary>
    private static readonly TimeSpan s_propagation = TimeSpan.FromSeconds(2);

    private static Task<CorralInstance> ReplicaAsync(Corral.Simulator.SimulatedOllama sim, string database) =>
        CorralInstance.StartAsync([CorralInstance.Backend(sim, "a")], s => s with { Database = database });

    [PostgresFact]
    public async Task KeyCreatedRotatedRevokedOnOne_HonouredByTheOtherWithinTwoSeconds()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var a = await ReplicaAsync(sim, database.ConnectionString);
        await using var b = await ReplicaAsync(sim, database.ConnectionString);

        var (id, secret) = await a.CreateKeyFromAsync("""{"name":"shared","role":"user"}""");
        using var onB = b.Client(secret);
        var seen = await Eventually.WaitUntilAsync(async () => (await onB.GetAsync("/api/tags")).StatusCode == HttpStatusCode.OK, "b accepts the key made on a", s_propagation);

        using var rotate = await a.Client().PostJsonAsync($"/admin/api/keys/{id}/rotate", "{}");
        var fresh = (await rotate.JsonAsync()).GetProperty("key").GetString()!;
        using var freshOnB = b.Client(fresh);
        await Eventually.WaitUntilAsync(async () => (await onB.GetAsync("/api/tags")).StatusCode == HttpStatusCode.Unauthorized, "b refuses the rotated-out secret", s_propagation);
        await Eventually.WaitUntilAsync(async () => (await freshOnB.GetAsync("/api/tags")).StatusCode == HttpStatusCode.OK, "b accepts the new secret", s_propagation);

        (await a.Client().DeleteAsync($"/admin/api/keys/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var revoked = await Eventually.WaitUntilAsync(async () => (await freshOnB.GetAsync("/api/tags")).StatusCode == HttpStatusCode.Unauthorized, "b refuses the revoked key", s_propagation);
        seen.Should().BeLessThan(s_propagation);
        revoked.Should().BeLessThan(s_propagation);
    }

    [PostgresFact]
    public async Task BackendAddedAndRemovedOnOne_TheOtherRoutesToItWithinTwoSeconds_UsageOfBothInOneQuery()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var other = await Sim.StartAsync("qwen2.5:7b");
        await using var a = await ReplicaAsync(sim, database.ConnectionString);
        await using var b = await ReplicaAsync(sim, database.ConnectionString);
        using var adminA = a.Client();
        using var adminB = b.Client();

        (await adminA.PostJsonAsync("/admin/api/backends", $$"""{"name":"gpu2","url":"{{other.BaseAddress.ToString().TrimEnd('/')}}"}""")).StatusCode.Should().Be(HttpStatusCode.Created);
        await Eventually.WaitUntilAsync(async () => (await adminB.GetAsync("/admin/api/backends/gpu2")).StatusCode == HttpStatusCode.OK, "b has the backend added on a", s_propagation);
        await Eventually.WaitUntilAsync(async () => (await adminB.PostJsonAsync("/api/chat", Chat.Replace("llama3.2", "qwen2.5:7b", StringComparison.Ordinal))).StatusCode == HttpStatusCode.OK, "b serves the new backend's model");
        (await adminA.PostJsonAsync("/api/chat", Chat)).EnsureSuccessStatusCode();

        (await adminB.DeleteAsync("/admin/api/backends/gpu2")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await Eventually.WaitUntilAsync(async () => (await adminA.GetAsync("/admin/api/backends/gpu2")).StatusCode == HttpStatusCode.NotFound, "a lets go of the backend removed on b", s_propagation);

        // Each replica writes its own records; one query on either sees both (written within about a second).
        await Eventually.WaitUntilAsync(
            async () =>
            {
                var usage = await (await adminA.GetAsync("/admin/api/usage?groupBy=model")).JsonAsync();
                var models = usage.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString() ?? "", g => g.GetProperty("requests").GetInt64());
                return models.GetValueOrDefault("qwen2.5:7b") >= 1 && models.GetValueOrDefault("llama3.2:latest") >= 1;
            },
            "a's usage query counts b's request and its own");
    }

    [PostgresFact]
    public async Task PresetAddedAndRemovedOnOne_TheOtherServesItWithinTwoSeconds()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var a = await ReplicaAsync(sim, database.ConnectionString);
        await using var b = await ReplicaAsync(sim, database.ConnectionString);
        using var adminA = a.Client();
        using var adminB = b.Client();
        var preset = Chat.Replace("\"llama3.2\"", "\"support-bot\"", StringComparison.Ordinal);

        (await adminA.PostJsonAsync("/admin/api/presets", """{"name":"support-bot","model":"llama3.2","system":"Be brief."}""")).StatusCode.Should().Be(HttpStatusCode.Created);
        await Eventually.WaitUntilAsync(async () => (await adminB.PostJsonAsync("/api/chat", preset)).StatusCode == HttpStatusCode.OK, "b serves the preset added on a", s_propagation);

        (await adminB.DeleteAsync("/admin/api/presets/support-bot")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await Eventually.WaitUntilAsync(async () => (await adminA.GetAsync("/admin/api/presets/support-bot")).StatusCode == HttpStatusCode.NotFound, "a lets go of the preset removed on b", s_propagation);
    }

    [PostgresFact]
    public async Task RequestsPerMinute_HeldAcrossReplicas()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.Parallel = 4);
        await using var a = await ReplicaAsync(sim, database.ConnectionString);
        await using var b = await ReplicaAsync(sim, database.ConnectionString);
        var (_, secret) = await a.CreateKeyFromAsync("""{"name":"rated","role":"user","requestsPerMinute":10}""");
        using var onA = a.Client(secret);
        using var onB = b.Client(secret);
        await Eventually.WaitUntilAsync(async () => (await onB.GetAsync("/api/tags")).StatusCode == HttpStatusCode.OK, "b knows the key", s_propagation);
        var started = DateTimeOffset.UtcNow;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await (i % 2 == 0 ? onA : onB).PostJsonAsync("/api/chat", Chat);
            statuses.Add(response.StatusCode);
        }

        // Ten a minute come back at one per 6 s: what the run's length refilled is allowed on top.
        var refilled = (int)((DateTimeOffset.UtcNow - started).TotalSeconds / 6);
        var served = statuses.Count(s => s == HttpStatusCode.OK);
        served.Should().BeInRange(10, 10 + refilled + 1, "the limit holds across the two, never more than one request per replica over it");
        statuses.Where(s => s != HttpStatusCode.OK).Should().OnlyContain(s => s == HttpStatusCode.TooManyRequests);
    }

    [PostgresFact]
    public async Task DatabaseLost_ServesWithKnownKeys_AdminWrites503_UsageCaughtUp_RevocationAppliedOnReturn()
    {
        await using var database = await TestPostgres.CreateDatabaseAsync();
        var direct = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await using var proxy = new CuttableProxy(direct.Host!, direct.Port);
        var throughProxy = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 2, CommandTimeout = 5 }.ConnectionString;
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var a = await ReplicaAsync(sim, throughProxy);
        await using var b = await ReplicaAsync(sim, database.ConnectionString);
        var (id, secret) = await b.CreateKeyFromAsync("""{"name":"kept","role":"user"}""");
        using var onA = a.Client(secret);
        await Eventually.WaitUntilAsync(async () => (await onA.GetAsync("/api/tags")).StatusCode == HttpStatusCode.OK, "a knows the key", s_propagation);

        proxy.Cut();

        for (var i = 0; i < 5; i++)
        {
            (await onA.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK, "a serves with the keys it knew");
        }

        using var write = await a.Client().PostJsonAsync("/admin/api/keys", """{"name":"new","role":"user"}""");
        write.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        write.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await write.JsonAsync()).GetProperty("detail").GetString().Should().Contain("database cannot be reached");
        (await b.Client().DeleteAsync($"/admin/api/keys/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await onA.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK, "a cannot hear of the revocation while cut off");

        proxy.Restore();

        await Eventually.WaitUntilAsync(async () => (await onA.GetAsync("/api/tags")).StatusCode == HttpStatusCode.Unauthorized, "a applies the revocation once it is back", TimeSpan.FromSeconds(20));
        await Eventually.WaitUntilAsync(
            async () => (long)(await database.ScalarAsync(
                $"SELECT count(*) FROM usage_records r JOIN usage_names k ON k.id = r.key_id JOIN usage_names p ON p.id = r.route WHERE k.name = '{id}' AND p.name = '/api/chat';"))! == 5,
            "the five requests served while cut off are written once the database is back",
            TimeSpan.FromSeconds(30));
        (await a.Client().PostJsonAsync("/admin/api/keys", """{"name":"new","role":"user"}""")).StatusCode.Should().Be(HttpStatusCode.Created);
    }
}
