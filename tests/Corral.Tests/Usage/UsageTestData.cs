using Corral.Storage;
using Corral.Usage;
using Microsoft.Data.Sqlite;

namespace Corral.Tests.Usage;

/// <summary>A SQLite store in its own temporary folder, and records to put in it.</summary>
internal sealed class TemporaryStore : IAsyncDisposable
{
    private TemporaryStore(string folder, SqliteStore store)
    {
        Folder = folder;
        Store = store;
    }

    public string Folder { get; }

    public SqliteStore Store { get; }

    public static async Task<TemporaryStore> CreateAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "corral-ut-" + Guid.NewGuid().ToString("N"));
        var store = new SqliteStore(folder);
        await store.InitializeAsync(CancellationToken.None);
        return new TemporaryStore(folder, store);
    }

    /// <summary>Writes the records in one batch.</summary>
    public void Write(params UsageRecord[] records)
    {
        using var session = Store.OpenUsageWriter();
        session.Write(records);
    }

    public Task<IReadOnlyList<UsageGroup>> QueryAsync(DateTimeOffset from, DateTimeOffset to, UsageGrouping grouping = UsageGrouping.Model, UsageGrouping? bucket = null) =>
        new UsageReport(Store).QueryAsync(from, to, grouping, bucket, CancellationToken.None);

    public Task<IReadOnlyList<StoredUsageRecord>> ListAsync(DateTimeOffset from, DateTimeOffset to, string? key = null, string? model = null, int limit = 100) =>
        Store.ListUsageRecordsAsync(new UsageRecordFilter(from, to, key, model, limit), CancellationToken.None);

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Temp folder; a leftover is harmless.
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>Usage records as the pipeline makes them.</summary>
internal static class UsageTestData
{
    public static UsageRecord Record(
        DateTimeOffset time,
        string? model = "llama3.2",
        int status = 200,
        string? keyId = "key_a",
        string? keyName = "laptop",
        string? user = null,
        string? backend = "gpu1",
        double durationMs = 100,
        double? ttftMs = 10,
        int promptTokens = 3,
        int completionTokens = 7) => new()
        {
            Time = time,
            KeyId = keyId,
            KeyName = keyName,
            User = user,
            Route = "/api/chat",
            Model = model,
            ResolvedModel = model is null ? null : model + ":latest",
            Backend = backend,
            Status = status,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            TtftMs = ttftMs,
            DurationMs = durationMs,
            Attempts = backend is null ? 0 : 1,
        };
}
