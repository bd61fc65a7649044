using Corral.Storage;

namespace Corral.Tests.Storage;

/// <summary>What every backend store must do, whichever database holds it; each store's tests derive from this.</summary>
public abstract class BackendStoreContract(StoreKind kind) : StoreContract(kind)
{
    private static readonly DateTimeOffset s_ten = new(2026, 12, 1, 10, 0, 0, 250, TimeSpan.Zero);

    private IBackendStore Store => (IBackendStore)Stored;

    [StoreFact]
    public async Task Save_Several_ListedInTheOrderFirstAdded()
    {
        await Store.SaveBackendAsync(new StoredBackend("gpu2", """{"url":"http://10.0.0.2:11434"}""", s_ten), CancellationToken.None);
        await Store.SaveBackendAsync(new StoredBackend("gpu1", """{"url":"http://10.0.0.1:11434","key":"s3cret"}""", s_ten.AddSeconds(1)), CancellationToken.None);
        await Store.SaveBackendAsync(new StoredBackend("cpu", """{"url":"http://10.0.0.3:11434"}""", s_ten.AddSeconds(2)), CancellationToken.None);

        (await Store.ListBackendsAsync(CancellationToken.None)).Should().Equal(
            new StoredBackend("gpu2", """{"url":"http://10.0.0.2:11434"}""", s_ten),
            new StoredBackend("gpu1", """{"url":"http://10.0.0.1:11434","key":"s3cret"}""", s_ten.AddSeconds(1)),
            new StoredBackend("cpu", """{"url":"http://10.0.0.3:11434"}""", s_ten.AddSeconds(2)));
    }

    [StoreFact]
    public async Task Save_SameNameInAnotherCase_ReplacesInPlaceKeepingTheFirstName()
    {
        await Store.SaveBackendAsync(new StoredBackend("gpu1", """{"weight":1}""", s_ten), CancellationToken.None);
        await Store.SaveBackendAsync(new StoredBackend("gpu2", """{"weight":2}""", s_ten), CancellationToken.None);

        await Store.SaveBackendAsync(new StoredBackend("GPU1", """{"weight":3}""", s_ten.AddMinutes(1)), CancellationToken.None);

        (await Store.ListBackendsAsync(CancellationToken.None)).Should().Equal(
            new StoredBackend("gpu1", """{"weight":3}""", s_ten.AddMinutes(1)),
            new StoredBackend("gpu2", """{"weight":2}""", s_ten));
    }

    [StoreFact]
    public async Task Delete_AnyCase_TrueOnceThenFalse()
    {
        await Store.SaveBackendAsync(new StoredBackend("gpu1", "{}", s_ten), CancellationToken.None);

        (await Store.DeleteBackendAsync("Gpu1", CancellationToken.None)).Should().BeTrue();
        (await Store.DeleteBackendAsync("gpu1", CancellationToken.None)).Should().BeFalse();
        (await Store.DeleteBackendAsync("never", CancellationToken.None)).Should().BeFalse();
        (await Store.ListBackendsAsync(CancellationToken.None)).Should().BeEmpty();
    }
}

/// <summary>The backend store contract on the embedded SQLite store.</summary>
public sealed class SqliteBackendStoreTests() : BackendStoreContract(StoreKind.Sqlite);

/// <summary>The backend store contract on PostgreSQL (<c>CORRAL_TEST_POSTGRES</c>), in a database of its own.</summary>
[PostgresStoreTests]
public sealed class PostgresBackendStoreTests() : BackendStoreContract(StoreKind.Postgres);
