using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Corral.Bench;
using Corral.Storage;
using Corral.Usage;
using Microsoft.Data.Sqlite;

namespace Corral.LoadBench;

/// <summary>
/// Usage queries over a month of records: writes <see cref="BenchOptions.UsageRecords"/> synthetic records
/// (<see cref="SyntheticUsage"/>) spread over the last 30 days into a data folder, through Corral's own usage write
/// path (records, names and hourly rollups, 10,000 a transaction), then starts the published Corral on that folder
/// and times <c>GET /admin/api/usage?groupBy=model&amp;from=&lt;30 days ago&gt;</c> as a client sees it: the first
/// after start and warm ones, then a few other groupings and the newest records.
/// </summary>
internal static class UsageQueries
{
    private const int Days = 30;
    private const int Batch = 10_000;
    private const int WarmQueries = 5;

    public static async Task<UsageFigures> RunAsync(BenchOptions options, string corralExecutable, string work, string key)
    {
        // CorralProcess serves the data folder data-<name> of the work folder.
        var data = Path.Combine(work, "data-usage");
        var end = DateTimeOffset.UtcNow.AddMinutes(-1);
        var start = end.AddDays(-Days).AddMinutes(10);
        Console.WriteLine($"Usage: writing {options.UsageRecords:#,0} records over {Days} days into {data} ...");
        var (createSeconds, createCpuSeconds, writeCpuSeconds) = await CreateAsync(data, options.UsageRecords, start, end);
        var databaseBytes = new DirectoryInfo(data).GetFiles("corral.db*").Sum(f => f.Length);
        var rollupRows = Count(data, "usage_hourly");
        Console.WriteLine($"Usage: written in {createSeconds:0.0} s ({createCpuSeconds:0.0} s of CPU, {writeCpuSeconds:0.0} s of it writing), {databaseBytes / 1e6:0} MB, {rollupRows:#,0} rollup rows");

        using var corral = await CorralProcess.StartAsync(corralExecutable, "usage", work, key, []);
        using var client = Loopback.Client(key);
        var from = end.AddDays(-Days).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var byModel = new Uri(corral.BaseAddress, $"/admin/api/usage?groupBy=model&from={from}");

        var (coldMs, coldBody) = await TimeAsync(client, byModel);
        using var document = JsonDocument.Parse(coldBody);
        var groups = document.RootElement.GetProperty("groups");
        var counted = groups.EnumerateArray().Sum(g => g.GetProperty("requests").GetInt64());
        if (counted != options.UsageRecords)
        {
            throw new BenchmarkException($"the usage query counted {counted:#,0} requests, not the {options.UsageRecords:#,0} written");
        }

        var warm = new List<double>();
        for (var i = 0; i < WarmQueries; i++)
        {
            warm.Add((await TimeAsync(client, byModel)).Milliseconds);
        }

        var others = new List<UsageQueryTime>();
        foreach (var groupBy in new[] { "key", "user", "day", "hour" })
        {
            var url = new Uri(corral.BaseAddress, $"/admin/api/usage?groupBy={groupBy}&from={from}");
            await TimeAsync(client, url);
            others.Add(new UsageQueryTime($"groupBy={groupBy}", (await TimeAsync(client, url)).Milliseconds));
        }

        var newest = new Uri(corral.BaseAddress, "/admin/api/usage/requests?limit=100");
        await TimeAsync(client, newest);
        others.Add(new UsageQueryTime("requests?limit=100 (the newest)", (await TimeAsync(client, newest)).Milliseconds));

        return new UsageFigures(
            options.UsageRecords, Days, createSeconds, createCpuSeconds, writeCpuSeconds, databaseBytes, rollupRows, groups.GetArrayLength(),
            coldMs, Stats.Median(warm), warm.Max(), others, corral.Memory().Rss);
    }

    // The CPU time of the whole process during the writes (not while the records are made up) is the write path's.
    private static async Task<(double Seconds, double CpuSeconds, double WriteCpuSeconds)> CreateAsync(string data, long records, DateTimeOffset start, DateTimeOffset end)
    {
        var store = new SqliteStore(data);
        await store.InitializeAsync(CancellationToken.None);
        var traffic = new SyntheticUsage();
        var step = (end - start).Ticks / records;
        var batch = new UsageRecord[Batch];
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var writing = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        using (var session = store.OpenUsageWriter())
        {
            for (long written = 0; written < records;)
            {
                var count = (int)Math.Min(Batch, records - written);
                for (var i = 0; i < count; i++)
                {
                    batch[i] = traffic.Next(start.AddTicks((written + i) * step));
                }

                process.Refresh();
                var before = process.TotalProcessorTime;
                session.Write(count == Batch ? batch : batch[..count]);
                process.Refresh();
                writing += process.TotalProcessorTime - before;
                written += count;
                if (written % 1_000_000 == 0)
                {
                    Console.WriteLine($"  {written:#,0} records, {clock.Elapsed.TotalSeconds:0} s");
                }
            }
        }

        SqliteConnection.ClearAllPools();
        process.Refresh();
        return (clock.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds, writing.TotalSeconds);
    }

    private static long Count(string data, string table)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "corral.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table};";
        return (long)command.ExecuteScalar()!;
    }

    // The whole answer read, as a client sees it.
    private static async Task<(double Milliseconds, byte[] Body)> TimeAsync(HttpClient client, Uri url)
    {
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchmarkException($"{url} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        }

        return (clock.Elapsed.TotalMilliseconds, body);
    }
}
