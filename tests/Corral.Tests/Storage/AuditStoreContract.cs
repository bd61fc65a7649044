using Corral.Storage;

namespace Corral.Tests.Storage;

/// <summary>What every audit store must do, whichever database holds it; each store's tests derive from this.</summary>
public abstract class AuditStoreContract(StoreKind kind) : StoreContract(kind)
{
    private static readonly DateTimeOffset s_ten = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

    private IAuditStore Store => (IAuditStore)Stored;

    [StoreFact]
    public async Task Add_EveryField_ReadBackNewestFirst()
    {
        var first = new AuditEvent(s_ten, "key_1", "ops", "10.0.0.7", "key.create", "key_2", "ok");
        var second = new AuditEvent(s_ten.AddSeconds(1), null, null, null, "backend.drain", "gpu1", "404: no backend named 'gpu1'");

        await Store.AddAuditEventAsync(first, CancellationToken.None);
        await Store.AddAuditEventAsync(second, CancellationToken.None);

        (await Store.ListAuditEventsAsync(new AuditFilter(null, null, null, null, 10), CancellationToken.None)).Should().Equal(second, first);
    }

    [StoreFact]
    public async Task List_RangeAndLimit()
    {
        for (var i = 0; i < 5; i++)
        {
            await Store.AddAuditEventAsync(new AuditEvent(s_ten.AddMinutes(i), "key_1", "ops", "::1", "model.pull", "llama3.2", "ok"), CancellationToken.None);
        }

        var inRange = await Store.ListAuditEventsAsync(new AuditFilter(s_ten.AddMinutes(1), s_ten.AddMinutes(4), null, null, 10), CancellationToken.None);
        inRange.Select(e => e.Time).Should().Equal(s_ten.AddMinutes(3), s_ten.AddMinutes(2), s_ten.AddMinutes(1));
        (await Store.ListAuditEventsAsync(new AuditFilter(null, null, null, null, 2), CancellationToken.None)).Select(e => e.Time).Should().Equal(s_ten.AddMinutes(4), s_ten.AddMinutes(3));
    }

    [StoreFact]
    public async Task List_ActionExactOrItsFamily()
    {
        string[] actions = ["key.create", "key.revoke", "keys.other", "backend.drain", "key"];
        for (var i = 0; i < actions.Length; i++)
        {
            await Store.AddAuditEventAsync(new AuditEvent(s_ten.AddMinutes(i), "key_1", "ops", "::1", actions[i], "x", "ok"), CancellationToken.None);
        }

        async Task<string[]> ActionsAsync(string action) =>
            [.. (await Store.ListAuditEventsAsync(new AuditFilter(null, null, action, null, 10), CancellationToken.None)).Select(e => e.Action)];

        (await ActionsAsync("key.create")).Should().Equal("key.create");
        (await ActionsAsync("key.")).Should().Equal("key.revoke", "key.create");
        (await ActionsAsync("key")).Should().Equal("key", "key.revoke", "key.create");
        (await ActionsAsync("key.c")).Should().BeEmpty();
        (await ActionsAsync("backend.")).Should().Equal("backend.drain");
    }

    [StoreFact]
    public async Task List_ActorByKeyIdOrName()
    {
        await Store.AddAuditEventAsync(new AuditEvent(s_ten, "key_1", "ops", "::1", "key.create", "a", "ok"), CancellationToken.None);
        await Store.AddAuditEventAsync(new AuditEvent(s_ten.AddMinutes(1), "key_2", "ci", "::1", "key.create", "b", "ok"), CancellationToken.None);
        await Store.AddAuditEventAsync(new AuditEvent(s_ten.AddMinutes(2), null, null, "::1", "key.create", "c", "401"), CancellationToken.None);

        async Task<string?[]> TargetsAsync(string? actor, string? action = null) =>
            [.. (await Store.ListAuditEventsAsync(new AuditFilter(null, null, action, actor, 10), CancellationToken.None)).Select(e => e.Target)];

        (await TargetsAsync("key_1")).Should().Equal("a");
        (await TargetsAsync("ci")).Should().Equal("b");
        (await TargetsAsync("nobody")).Should().BeEmpty();
        (await TargetsAsync("ops", "backend.")).Should().BeEmpty();
        (await TargetsAsync(null)).Should().Equal("c", "b", "a");
    }
}

/// <summary>The audit store contract on the embedded SQLite store.</summary>
public sealed class SqliteAuditStoreTests() : AuditStoreContract(StoreKind.Sqlite);

/// <summary>The audit store contract on PostgreSQL (<c>CORRAL_TEST_POSTGRES</c>), in a database of its own.</summary>
[PostgresStoreTests]
public sealed class PostgresAuditStoreTests() : AuditStoreContract(StoreKind.Postgres);
