using Corral.Storage;

namespace Corral.Tests.Storage;

/// <summary>What every preset store must do, whichever database holds it; each store's tests derive from this.</summary>
public abstract class PresetStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset s_ten = new(2026, 12, 1, 10, 0, 0, 250, TimeSpan.Zero);

    private IPresetStore _store = null!;

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public abstract Task DisposeAsync();

    /// <summary>A store with its schema in place.</summary>
    internal abstract Task<IPresetStore> CreateStoreAsync();

    [StoreFact]
    public async Task Save_Several_ListedInTheOrderFirstAdded()
    {
        await _store.SavePresetAsync(new StoredPreset("support-bot", """{"name":"support-bot","model":"llama3.2"}""", s_ten), CancellationToken.None);
        await _store.SavePresetAsync(new StoredPreset("gpt-4o-mini", """{"name":"gpt-4o-mini","model":"qwen3"}""", s_ten.AddSeconds(1)), CancellationToken.None);

        (await _store.ListPresetsAsync(CancellationToken.None)).Should().Equal(
            new StoredPreset("support-bot", """{"name":"support-bot","model":"llama3.2"}""", s_ten),
            new StoredPreset("gpt-4o-mini", """{"name":"gpt-4o-mini","model":"qwen3"}""", s_ten.AddSeconds(1)));
    }

    [StoreFact]
    public async Task Save_SameNameInAnotherCase_ReplacesInPlaceKeepingTheFirstName()
    {
        await _store.SavePresetAsync(new StoredPreset("bot", """{"v":1}""", s_ten), CancellationToken.None);
        await _store.SavePresetAsync(new StoredPreset("other", """{"v":2}""", s_ten), CancellationToken.None);

        await _store.SavePresetAsync(new StoredPreset("BOT", """{"v":3}""", s_ten.AddMinutes(1)), CancellationToken.None);

        (await _store.ListPresetsAsync(CancellationToken.None)).Should().Equal(
            new StoredPreset("bot", """{"v":3}""", s_ten.AddMinutes(1)),
            new StoredPreset("other", """{"v":2}""", s_ten));
    }

    [StoreFact]
    public async Task Delete_AnyCase_TrueOnceThenFalse()
    {
        await _store.SavePresetAsync(new StoredPreset("bot", "{}", s_ten), CancellationToken.None);

        (await _store.DeletePresetAsync("Bot", CancellationToken.None)).Should().BeTrue();
        (await _store.DeletePresetAsync("bot", CancellationToken.None)).Should().BeFalse();
        (await _store.DeletePresetAsync("never", CancellationToken.None)).Should().BeFalse();
        (await _store.ListPresetsAsync(CancellationToken.None)).Should().BeEmpty();
    }
}

/// <summary>The preset store contract on the embedded SQLite store.</summary>
public sealed class SqlitePresetStoreTests : PresetStoreContract
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "corral-ut-" + Guid.NewGuid().ToString("N"));

    internal override async Task<IPresetStore> CreateStoreAsync()
    {
        var store = new SqliteStore(_folder);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The preset store contract on PostgreSQL (<c>CORRAL_TEST_POSTGRES</c>), in a database of its own.</summary>
[PostgresStoreTests]
public sealed class PostgresPresetStoreTests : PresetStoreContract
{
    private TemporaryPostgresStore? _temporary;

    internal override async Task<IPresetStore> CreateStoreAsync()
    {
        _temporary = await TemporaryPostgresStore.CreateAsync();
        return _temporary.Store;
    }

    public override async Task DisposeAsync()
    {
        if (_temporary is not null)
        {
            await _temporary.DisposeAsync();
        }
    }
}
