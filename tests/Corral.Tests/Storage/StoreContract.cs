using Corral.Tests.Usage;

namespace Corral.Tests.Storage;

/// <summary>The databases a store contract runs on.</summary>
public enum StoreKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// The lifetime the store contracts share: before each test a store of <see cref="StoreKind"/>, its schema in place,
/// in a folder or database of its own; after it, that folder or database gone. The store is held as the object it
/// is (<see cref="Corral.Storage.SqliteStore"/> or <see cref="Corral.Storage.PostgresStore"/>, each every store
/// interface), since a public test class cannot name the internal interfaces as a type argument.
/// </summary>
public abstract class StoreContract(StoreKind kind) : IAsyncLifetime
{
    private IAsyncDisposable? _temporary;

    /// <summary>The store under test.</summary>
    internal object Stored { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (kind == StoreKind.Postgres)
        {
            var postgres = await TemporaryPostgresStore.CreateAsync();
            (Stored, _temporary) = (postgres.Store, postgres);
        }
        else
        {
            var sqlite = await TemporaryStore.CreateAsync();
            (Stored, _temporary) = (sqlite.Store, sqlite);
        }
    }

    public async Task DisposeAsync()
    {
        if (_temporary is not null)
        {
            await _temporary.DisposeAsync();
        }
    }
}
