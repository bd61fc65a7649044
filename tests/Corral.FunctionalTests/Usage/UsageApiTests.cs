using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Usage;

/// <summary>Requests through a real Corral become usage records, read back through the admin usage API.</summary>
public sealed class UsageApiTests
{

    private const string Chat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""";

    [Fact]
    public async Task Requests_ThroughCorral_CountedPerModelKeyUserBackendStatusAndListedNewestFirst()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        var (laptopId, laptop) = await CreateKeyAsync(corral, "laptop", assertsUsers: false);
        var (webuiId, webui) = await CreateKeyAsync(corral, "open-webui", assertsUsers: true);
        using var laptopClient = corral.Client(laptop);
        using var webuiClient = corral.Client(webui);
        using var anonymous = corral.Client(null);

        for (var i = 0; i < 3; i++)
        {
            (await laptopClient.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using (var named = new HttpRequestMessage(HttpMethod.Post, "/ollama/api/chat") { Content = JsonContent(Chat.Replace("llama3.2", "qwen3", StringComparison.Ordinal)) })
        {
            named.Headers.Add("X-OpenWebUI-User-Email", "ada@example.com");
            (await webuiClient.SendAsync(named)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        // A user key cannot name someone else: its header is ignored.
        using (var claimed = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = JsonContent(Chat) })
        {
            claimed.Headers.Add("X-OpenWebUI-User-Email", "mallory@example.com");
            (await laptopClient.SendAsync(claimed)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await laptopClient.PostJsonAsync("/api/chat", Chat.Replace("llama3.2", "nosuch", StringComparison.Ordinal))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await anonymous.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var admin = corral.Client();
        var records = await WaitForRequestsAsync(admin, 7);

        records.Select(r => r.GetProperty("status").GetInt32()).Should().Equal(401, 404, 200, 200, 200, 200, 200);
        var ada = records.Single(r => r.GetProperty("user").GetString() == "ada@example.com");
        (Text(ada, "keyId"), Text(ada, "keyName"), Text(ada, "route"), Text(ada, "model"), Text(ada, "resolvedModel"), Text(ada, "backend"))
            .Should().Be((webuiId, "open-webui", "/api/chat", "qwen3", "qwen3:latest", "b"));
        ada.GetProperty("attempts").GetInt32().Should().Be(1);
        ada.GetProperty("durationMs").GetDouble().Should().BePositive();
        ada.GetProperty("cancelled").GetBoolean().Should().BeFalse();
        records.Where(r => Text(r, "keyId") == laptopId).Should().HaveCount(5).And.OnlyContain(r => r.GetProperty("user").ValueKind == JsonValueKind.Null);
        Text(records[0], "keyId").Should().BeNull("a request without a valid key has none");
        Text(records[1], "error").Should().Contain("not found");
        records.Select(r => DateTimeOffset.Parse(Text(r, "time")!, System.Globalization.CultureInfo.InvariantCulture)).Should().BeInDescendingOrder();

        (await GroupsAsync(admin, "model")).Should().Equal(("llama3.2:latest", 4L), ("nosuch", 1L), ("qwen3:latest", 1L), (null, 1L));
        (await GroupsAsync(admin, "key")).Should().Equal((laptopId, 5L), (webuiId, 1L), (null, 1L));
        (await GroupsAsync(admin, "user")).Should().Equal((null, 6L), ("ada@example.com", 1L));
        (await GroupsAsync(admin, "backend")).Should().Equal(("a", 4L), (null, 2L), ("b", 1L));
        (await GroupsAsync(admin, "status")).Should().Equal(("200", 5L), ("401", 1L), ("404", 1L));
        (await GroupsAsync(admin, "route")).Should().Equal(("/api/chat", 7L));

        var byKey = await admin.GetFromJsonAsync<JsonElement>("/admin/api/usage?groupBy=key");
        byKey.GetProperty("groupBy").GetString().Should().Be("key");
        var laptopGroup = byKey.GetProperty("groups")[0];
        Text(laptopGroup, "keyName").Should().Be("laptop");
        laptopGroup.GetProperty("errors").GetInt64().Should().Be(1, "the 404");
        laptopGroup.GetProperty("durationMsP50").GetDouble().Should().BePositive();
        var total = await admin.GetFromJsonAsync<JsonElement>("/admin/api/usage?groupBy=day");
        total.GetProperty("groups").EnumerateArray().Sum(g => g.GetProperty("errors").GetInt64()).Should().Be(2, "401 and 404 are errors");

        (await RequestsAsync(admin, $"?key={laptopId}&model=llama3.2")).Should().HaveCount(4);
        (await RequestsAsync(admin, "?key=open-webui")).Should().ContainSingle();
        (await RequestsAsync(admin, "?limit=2")).Should().HaveCount(2);
    }

    [Fact]
    public async Task UsageApi_UserKey_403()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var user = corral.Client(await corral.CreateKeyAsync("user"));

        foreach (var path in new[] { "/admin/api/usage", "/admin/api/usage/requests", "/admin/api/usage?format=csv" })
        {
            using var response = await user.GetAsync(path);
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden, path);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        }
    }

    [Theory]
    [InlineData("/admin/api/usage?from=yesterday", "from", "ISO 8601")]
    [InlineData("/admin/api/usage?to=2026-13-45", "to", "ISO 8601")]
    [InlineData("/admin/api/usage?groupBy=colour", "groupBy", "key, user, model, backend, route, status, hour, day")]
    [InlineData("/admin/api/usage?groupBy=hour,colour", "groupBy", "key, user, model, backend, route, status, hour, day")]
    [InlineData("/admin/api/usage?groupBy=hour,day", "groupBy", "one time bucket (hour or day) and one of key, user, model, backend, route, status together, like hour,model")]
    [InlineData("/admin/api/usage?groupBy=model,key", "groupBy", "one time bucket (hour or day) and one of")]
    [InlineData("/admin/api/usage?groupBy=hour,model,key", "groupBy", "one time bucket (hour or day) and one of")]
    [InlineData("/admin/api/usage?groupBy=hour,hour", "groupBy", "one time bucket (hour or day) and one of")]
    [InlineData("/admin/api/usage?from=2026-12-02&to=2026-12-01", "from", "must be before to")]
    [InlineData("/admin/api/usage?format=xml", "format", "json or csv")]
    [InlineData("/admin/api/usage?groupby=model&grouping=key", "grouping", "from, to, groupBy, format")]
    [InlineData("/admin/api/usage/requests?limit=0", "limit", "1 to 10000")]
    [InlineData("/admin/api/usage/requests?limit=many", "limit", "1 to 10000")]
    [InlineData("/admin/api/usage/requests?groupBy=model", "groupBy", "from, to, key, model, limit, format")]
    public async Task UsageApi_BadParameter_400ProblemNamingItAndTheAcceptedValues(string path, string parameter, string accepted)
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();

        using var response = await admin.GetAsync(path);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await response.JsonAsync();
        problem.GetProperty("status").GetInt32().Should().Be(400);
        problem.GetProperty("detail").GetString().Should().StartWith(parameter + ":").And.Contain(accepted);
    }

    [Fact]
    public async Task UsageApi_GroupByHourAndAValue_OneRowPerHourAndValue_WithTtftAverage_AlsoAsCsv()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var admin = corral.Client();
        (await admin.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostJsonAsync("/api/chat", Chat.Replace("llama3.2", "qwen3", StringComparison.Ordinal))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostJsonAsync("/api/chat", Chat.Replace("llama3.2", "nosuch", StringComparison.Ordinal))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        var records = await WaitForRequestsAsync(admin, 4);
        var firstHour = HourOf(records[^1]);
        // The requests may straddle the turn of an hour: then the expected rows are those of each hour.
        var perHour = records.GroupBy(HourOf).ToDictionary(g => g.Key, g => g.ToArray());

        var answer = await admin.GetFromJsonAsync<JsonElement>("/admin/api/usage?groupBy=hour,model");

        answer.GetProperty("groupBy").GetString().Should().Be("hour,model");
        var rows = answer.GetProperty("groups").EnumerateArray().ToArray();
        rows.Select(r => (Text(r, "time"), Text(r, "group"), r.GetProperty("requests").GetInt64())).Should().Equal(
            perHour.OrderBy(h => h.Key, StringComparer.Ordinal).SelectMany(h => h.Value
                .GroupBy(r => Text(r, "resolvedModel") ?? Text(r, "model"))
                .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => ((string?)h.Key, g.Key, (long)g.Count()))));
        var llama = rows.Where(r => Text(r, "group") == "llama3.2:latest").ToArray();
        llama.Sum(r => r.GetProperty("requests").GetInt64()).Should().Be(2);
        foreach (var row in llama)
        {
            var ttfts = perHour[Text(row, "time")!].Where(r => Text(r, "resolvedModel") == "llama3.2:latest").Select(r => r.GetProperty("ttftMs").GetDouble());
            row.GetProperty("ttftMsAvg").GetDouble().Should().BeApproximately(ttfts.Average(), 0.01, "the average of the records' own times");
        }

        rows.Single(r => Text(r, "group") == "nosuch").GetProperty("ttftMsAvg").ValueKind.Should().Be(JsonValueKind.Null, "a 404 has no first byte");
        rows.Select(r => r.GetProperty("durationMsP50").ValueKind).Should().OnlyContain(kind => kind == JsonValueKind.Number);

        var byHour = (await admin.GetFromJsonAsync<JsonElement>("/admin/api/usage?groupBy=hour")).GetProperty("groups").EnumerateArray().ToArray();
        byHour.Should().OnlyContain(r => r.GetProperty("ttftMsAvg").ValueKind == JsonValueKind.Number);
        byHour.Select(r => r.TryGetProperty("time", out var time)).Should().OnlyContain(has => !has, "groupBy=hour names the hour as its group");
        byHour.Sum(r => r.GetProperty("requests").GetInt64()).Should().Be(4);

        using var csv = await admin.GetAsync("/admin/api/usage?groupBy=key,day&format=csv");
        csv.StatusCode.Should().Be(HttpStatusCode.OK);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be("time,group,keyName,requests,errors,promptTokens,completionTokens,totalTokens,ttftMsP50,durationMsP50,ttftMsAvg");
        lines.Skip(1).Sum(l => long.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture)).Should().Be(4);
        lines[1].Should().StartWith(firstHour[..10] + "T00:00:00Z,admin-key-option,admin (--admin-key),");
    }

    private static string HourOf(JsonElement record) =>
        DateTimeOffset.Parse(Text(record, "time")!, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd'T'HH':00:00Z'", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task UsageApi_FormatCsv_TextCsvWithAHeaderRow()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();
        (await admin.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await admin.PostJsonAsync("/api/chat", Chat.Replace("llama3.2", "no,such \\\"model\\\"", StringComparison.Ordinal))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        await WaitForRequestsAsync(admin, 2);

        using var usage = await admin.GetAsync("/admin/api/usage?groupBy=model&format=csv");
        using var requests = await admin.GetAsync("/admin/api/usage/requests?format=csv");

        usage.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        var usageLines = (await usage.Content.ReadAsStringAsync()).Split("\r\n");
        usageLines[0].Should().Be("group,requests,errors,promptTokens,completionTokens,totalTokens,ttftMsP50,durationMsP50,ttftMsAvg");
        usageLines.Should().Contain(l => l.StartsWith("llama3.2:latest,1,0,", StringComparison.Ordinal));
        usageLines.Should().Contain(l => l.StartsWith("\"no,such \"\"model\"\"\",1,1,", StringComparison.Ordinal), "RFC 4180 quoting");

        requests.Content.Headers.ContentType!.MediaType.Should().Be("text/csv");
        var requestLines = (await requests.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        requestLines[0].Should().Be("time,keyId,keyName,user,route,model,resolvedModel,backend,status,error,promptTokens,completionTokens,queueMs,ttftMs,durationMs,overheadMs,bytesIn,bytesOut,attempts,cancelled");
        requestLines.Should().HaveCount(3);
    }

    [Fact]
    public async Task GracefulStop_RightAfterRequestsAndWithOneStillStreaming_NoRecordLost()
    {
        var data = Path.Combine(Path.GetTempPath(), "corral-ft-usage-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var a = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.Parallel) = (20, 4));
            var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a") with { MaxConcurrency = 4 }], s => s with { DrainTimeout = TimeSpan.FromSeconds(10) }, dataDirectory: data);
            using (var client = corral.Client())
            {
                for (var i = 0; i < 25; i++)
                {
                    (await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":1}}""")).StatusCode.Should().Be(HttpStatusCode.OK);
                }

                // A stream of about a second, still running when the stop begins: it ends within the drain, and its record
                // is made while the host is stopping.
                using var streaming = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","options":{"num_predict":20}}""", HttpCompletionOption.ResponseHeadersRead);
                var body = streaming.Content.ReadAsStringAsync();
                await corral.DisposeAsync();
                (await body).Should().Contain("\"done\":true");
            }

            await using var restarted = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], dataDirectory: data);
            using var admin = restarted.Client();
            var records = await RequestsAsync(admin, "?limit=100");

            records.Should().HaveCount(26);
            records.Should().OnlyContain(r => r.GetProperty("status").GetInt32() == 200);
            (await GroupsAsync(admin, "model")).Should().Equal(("llama3.2:latest", 26L));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(data, recursive: true);
        }
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static string? Text(JsonElement element, string property) => element.GetProperty(property).GetString();

    private static async Task<(string Id, string Secret)> CreateKeyAsync(CorralInstance corral, string name, bool assertsUsers)
    {
        using var admin = corral.Client();
        using var response = await admin.PostAsJsonAsync("/admin/api/keys", new { name, role = "user", assertsUsers });
        response.EnsureSuccessStatusCode();
        var key = await response.JsonAsync();
        return (Text(key, "id")!, Text(key, "key")!);
    }

    private static async Task<JsonElement[]> RequestsAsync(HttpClient admin, string query = "")
    {
        var answer = await admin.GetFromJsonAsync<JsonElement>("/admin/api/usage/requests" + query);
        return [.. answer.GetProperty("requests").EnumerateArray()];
    }

    // Records reach the store within a write interval (250 ms) of the request's end.
    private static Task<JsonElement[]> WaitForRequestsAsync(HttpClient admin, int count) =>
        Eventually.ValueAsync(() => RequestsAsync(admin), records => records.Length >= count, $"{count} records are written", records => $"{records.Length} records");

    private static async Task<(string? Group, long Requests)[]> GroupsAsync(HttpClient admin, string groupBy)
    {
        var answer = await admin.GetFromJsonAsync<JsonElement>("/admin/api/usage?groupBy=" + groupBy);
        return [.. answer.GetProperty("groups").EnumerateArray().Select(g => (Text(g, "group"), g.GetProperty("requests").GetInt64()))];
    }
}
