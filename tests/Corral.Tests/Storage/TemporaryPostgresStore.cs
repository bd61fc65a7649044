using Corral.Storage;

namespace Corral.Tests.Storage;

/// <summary>A PostgreSQL store on a database of its own (<see cref="TestPostgres"/>), dropped with it.</summary>
internal sealed class TemporaryPostgresStore : IAsyncDisposable
{
    private TemporaryPostgresStore(TestDatabase database, PostgresStore store)
    {
        Database = database;
        Store = store;
    }

    public TestDatabase Database { get; }

    public PostgresStore Store { get; }

    /// <summary>A new database and a store on it, its schema in place unless <paramref name="initialize"/> is false.</summary>
    public static async Task<TemporaryPostgresStore> CreateAsync(bool initialize = true)
    {
        var database = await TestPostgres.CreateDatabaseAsync();
        var store = new PostgresStore(database.ConnectionString);
        if (initialize)
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        return new TemporaryPostgresStore(database, store);
    }

    public async ValueTask DisposeAsync()
    {
        Store.Dispose();
        await Database.DisposeAsync();
    }
}
