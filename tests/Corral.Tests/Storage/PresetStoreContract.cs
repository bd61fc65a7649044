using Corral.Storage;

namespace Corral.Tests.Storage;

/// <summary>What every preset store must do, whichever database holds it; each store's tests derive from this.</summary>
public abstract class PresetStoreContract(StoreKind kind) : StoreContract(kind)
{
    private static readonly DateTimeOffset s_ten = new(2026, 12, 1, 10, 0, 0, 250, TimeSpan.Zero);

    private IPresetStore Store => (IPresetStore)Stored;

    [StoreFact]
    public async Task Save_Several_ListedInTheOrderFirstAdded()
    {
        await Store.SavePresetAsync(new StoredPreset("support-bot", """{"name":"support-bot","model":"llama3.2"}""", s_ten), CancellationToken.None);
        await Store.SavePresetAsync(new StoredPreset("gpt-4o-mini", """{"name":"gpt-4o-mini","model":"qwen3"}""", s_ten.AddSeconds(1)), CancellationToken.None);

        (await Store.ListPresetsAsync(CancellationToken.None)).Should().Equal(
            new StoredPreset("support-bot", """{"name":"support-bot","model":"llama3.2"}""", s_ten),
            new StoredPreset("gpt-4o-mini", """{"name":"gpt-4o-mini","model":"qwen3"}""", s_ten.AddSeconds(1)));
    }

    [StoreFact]
    public async Task Save_SameNameInAnotherCase_ReplacesInPlaceKeepingTheFirstName()
    {
        await Store.SavePresetAsync(new StoredPreset("bot", """{"v":1}""", s_ten), CancellationToken.None);
        await Store.SavePresetAsync(new StoredPreset("other", """{"v":2}""", s_ten), CancellationToken.None);

        await Store.SavePresetAsync(new StoredPreset("BOT", """{"v":3}""", s_ten.AddMinutes(1)), CancellationToken.None);

        (await Store.ListPresetsAsync(CancellationToken.None)).Should().Equal(
            new StoredPreset("bot", """{"v":3}""", s_ten.AddMinutes(1)),
            new StoredPreset("other", """{"v":2}""", s_ten));
    }

    [StoreFact]
    public async Task Delete_AnyCase_TrueOnceThenFalse()
    {
        await Store.SavePresetAsync(new StoredPreset("bot", "{}", s_ten), CancellationToken.None);

        (await Store.DeletePresetAsync("Bot", CancellationToken.None)).Should().BeTrue();
        (await Store.DeletePresetAsync("bot", CancellationToken.None)).Should().BeFalse();
        (await Store.DeletePresetAsync("never", CancellationToken.None)).Should().BeFalse();
        (await Store.ListPresetsAsync(CancellationToken.None)).Should().BeEmpty();
    }
}

/// <summary>The preset store contract on the embedded SQLite store.</summary>
public sealed class SqlitePresetStoreTests() : PresetStoreContract(StoreKind.Sqlite);

/// <summary>The preset store contract on PostgreSQL (<c>CORRAL_TEST_POSTGRES</c>), in a database of its own.</summary>
[PostgresStoreTests]
public sealed class PostgresPresetStoreTests() : PresetStoreContract(StoreKind.Postgres);
