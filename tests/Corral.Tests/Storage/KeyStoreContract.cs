using Corral.Access;
using Corral.Storage;

namespace Corral.Tests.Storage;

/// <summary>What every key store must do, whichever database holds it; each store's tests derive from this.</summary>
public abstract class KeyStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset s_created = new(2026, 12, 1, 9, 30, 15, 123, TimeSpan.Zero);

    private IKeyStore _store = null!;

    internal IKeyStore Store => _store;

    public async Task InitializeAsync()
    {
        _store = await CreateStoreAsync();
        await _store.InitializeAsync(CancellationToken.None);
    }

    public abstract Task DisposeAsync();

    internal abstract Task<IKeyStore> CreateStoreAsync();

    [StoreFact]
    public async Task AddKey_EveryField_ReadBackAsWritten()
    {
        var key = Key("key_full") with
        {
            Description = "the support team's key, \"quoted\"",
            Models = ["llama3*", "big.*"],
            Limits = new KeyLimits(60, 10_000, 2_000_000_000_000, 4),
            PreviousHash = Hash(9),
            PreviousValidUntil = s_created.AddMinutes(5),
        };

        await _store.AddKeyAsync(key, CancellationToken.None);

        var stored = (await _store.ListKeysAsync(CancellationToken.None)).Single();
        stored.Should().BeEquivalentTo(key);
    }

    [StoreFact]
    public async Task AddKey_NoOptionalFields_ReadBackEmpty()
    {
        await _store.AddKeyAsync(Key("key_plain"), CancellationToken.None);

        var stored = (await _store.ListKeysAsync(CancellationToken.None)).Single();
        stored.Models.Should().BeEmpty();
        stored.Limits.Should().Be(KeyLimits.None);
        stored.Description.Should().BeNull();
        stored.PreviousHash.Should().BeNull();
    }

    [StoreFact]
    public async Task UpdateKey_ChangesSettingsAndSecret_NotIdCreationOrLastUse()
    {
        await _store.AddKeyAsync(Key("key_u"), CancellationToken.None);
        await _store.RecordKeyUseAsync([("key_u", s_created.AddHours(1))], CancellationToken.None);

        var changed = Key("key_u") with
        {
            Name = "renamed",
            Role = KeyRole.Admin,
            Hash = Hash(2),
            Hint = "corral_BBBB…",
            Limits = KeyLimits.None with { MaxConcurrency = 1 },
            CreatedAt = s_created.AddYears(1),
            LastUsedAt = null,
        };
        (await _store.UpdateKeyAsync(changed, CancellationToken.None)).Should().BeTrue();

        var stored = (await _store.ListKeysAsync(CancellationToken.None)).Single();
        stored.Name.Should().Be("renamed");
        stored.Role.Should().Be(KeyRole.Admin);
        stored.Hash.Should().Equal(Hash(2));
        stored.Limits.MaxConcurrency.Should().Be(1);
        stored.CreatedAt.Should().Be(s_created);
        stored.LastUsedAt.Should().Be(s_created.AddHours(1));
    }

    [StoreFact]
    public async Task UpdateKey_RevokedOrMissing_False()
    {
        await _store.AddKeyAsync(Key("key_r"), CancellationToken.None);
        await _store.RevokeKeyAsync("key_r", s_created.AddDays(1), CancellationToken.None);

        (await _store.UpdateKeyAsync(Key("key_r") with { Name = "x" }, CancellationToken.None)).Should().BeFalse();
        (await _store.UpdateKeyAsync(Key("key_none"), CancellationToken.None)).Should().BeFalse();
        (await _store.ListKeysAsync(CancellationToken.None)).Single().Name.Should().Be("key_r");
    }

    [StoreFact]
    public async Task RecordKeyUse_LaterTimeWins()
    {
        await _store.AddKeyAsync(Key("key_a"), CancellationToken.None);

        await _store.RecordKeyUseAsync([("key_a", s_created.AddHours(2))], CancellationToken.None);
        await _store.RecordKeyUseAsync([("key_a", s_created.AddHours(1)), ("key_unknown", s_created)], CancellationToken.None);

        (await _store.ListKeysAsync(CancellationToken.None)).Single().LastUsedAt.Should().Be(s_created.AddHours(2));
    }

    private static StoredKey Key(string id) => new(id, id, KeyRole.User, Hash(1), "corral_AAAA…", s_created, s_created.AddDays(30), null, AssertsUsers: true);

    private static byte[] Hash(byte fill) => Enumerable.Repeat(fill, 32).Select((b, i) => (byte)(b + i)).ToArray();
}

/// <summary>The key store contract on the embedded SQLite store.</summary>
public sealed class SqliteKeyStoreTests : KeyStoreContract
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "corral-ut-" + Guid.NewGuid().ToString("N"));

    internal override Task<IKeyStore> CreateStoreAsync() => Task.FromResult<IKeyStore>(new SqliteStore(_folder));

    public override Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The key store contract on PostgreSQL (<c>CORRAL_TEST_POSTGRES</c>), in a database of its own.</summary>
[PostgresStoreTests]
public sealed class PostgresKeyStoreTests : KeyStoreContract
{
    private TemporaryPostgresStore? _temporary;

    internal override async Task<IKeyStore> CreateStoreAsync()
    {
        _temporary = await TemporaryPostgresStore.CreateAsync(initialize: false);
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
