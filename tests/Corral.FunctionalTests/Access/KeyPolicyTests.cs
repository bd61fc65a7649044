using System.Globalization;
using System.Net;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Access;

/// <summary>Keys with settings: changing them, rotating them, allow-lists, rates and concurrency, as clients meet them.</summary>
public sealed class KeyPolicyTests
{
    private static readonly DateTimeOffset s_start = DateTimeOffset.Parse("2026-03-01T10:00:00Z", CultureInfo.InvariantCulture);

    private static string Chat(string model) => $$$"""{"model":"{{{model}}}","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":3}}""";

    private static string OpenAiChat(string model) => $$$"""{"model":"{{{model}}}","messages":[{"role":"user","content":"hi"}],"max_tokens":3}""";

    [Fact]
    public async Task Fields_SetOnCreate_PatchChangesOnlyWhatIsSent_NullLiftsALimit_ListHasNoSecret()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();
        var (id, secret) = await corral.CreateKeyFromAsync("""
            {"name":"team-a","role":"user","description":"the support team","models":["llama3*","big.*"],
             "requestsPerMinute":60,"tokensPerMinute":10000,"tokensPerDay":200000,"maxConcurrency":2,
             "expiresAt":"2099-01-01T00:00:00Z","assertsUsers":true}
            """);

        using var patch = await admin.PatchAsync("/admin/api/keys/" + id, JsonContent("""{"requestsPerMinute":120,"tokensPerDay":null}"""));
        patch.StatusCode.Should().Be(HttpStatusCode.OK, await patch.Content.ReadAsStringAsync());
        var key = await (await admin.GetAsync("/admin/api/keys/" + id)).JsonAsync();

        key.GetProperty("name").GetString().Should().Be("team-a");
        key.GetProperty("description").GetString().Should().Be("the support team");
        key.GetProperty("models").EnumerateArray().Select(m => m.GetString()).Should().Equal("llama3*", "big.*");
        key.GetProperty("requestsPerMinute").GetInt32().Should().Be(120);
        key.GetProperty("tokensPerMinute").GetInt64().Should().Be(10000);
        key.GetProperty("tokensPerDay").ValueKind.Should().Be(JsonValueKind.Null, "null lifts the limit");
        key.GetProperty("maxConcurrency").GetInt32().Should().Be(2);
        key.GetProperty("assertsUsers").GetBoolean().Should().BeTrue();
        key.GetProperty("hint").GetString().Should().Be(secret[..11] + "…");
        key.TryGetProperty("key", out _).Should().BeFalse("a secret is shown only when it is made");

        using var user = corral.Client(secret);
        (await user.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);
        var listed = await (await admin.GetAsync("/admin/api/keys")).Content.ReadAsStringAsync();
        listed.Should().NotContain(secret[11..]);
        var mine = (await (await admin.GetAsync("/admin/api/keys")).JsonAsync()).EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        mine.GetProperty("lastUsedAt").ValueKind.Should().Be(JsonValueKind.String, "the key was just used");
    }

    [Fact]
    public async Task Patch_BadFields_ProblemNamingEach_AndNothingChanges()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();
        var (id, _) = await corral.CreateKeyFromAsync("""{"name":"k","role":"user","requestsPerMinute":5}""");

        using var bad = await admin.PatchAsync("/admin/api/keys/" + id, JsonContent("""{"requestsPerMinute":-1,"role":"root","models":"llama3","id":"other","colour":"red"}"""));

        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        bad.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var detail = (await bad.JsonAsync()).GetProperty("detail").GetString();
        detail.Should().Contain("requestsPerMinute").And.Contain("\"role\"").And.Contain("\"models\"").And.Contain("\"id\" is read-only").And.Contain("colour");
        (await (await admin.GetAsync("/admin/api/keys/" + id)).JsonAsync()).GetProperty("requestsPerMinute").GetInt32().Should().Be(5);
        (await admin.PatchAsync("/admin/api/keys/key_nope", JsonContent("""{"name":"x"}"""))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await admin.PatchAsync("/admin/api/keys/admin-key-option", JsonContent("""{"name":"x"}"""))).StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Rotate_NewSecretAtOnce_OldOneUntilItsGraceEnds_SameIdAndLimits()
    {
        var time = new FakeTimeProvider(s_start);
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], time: time);
        using var admin = corral.Client();
        var (id, old) = await corral.CreateKeyFromAsync("""{"name":"ci","role":"user","requestsPerMinute":100}""");

        using var rotate = await admin.PostJsonAsync($"/admin/api/keys/{id}/rotate", """{"graceSeconds":60}""");
        rotate.StatusCode.Should().Be(HttpStatusCode.OK, await rotate.Content.ReadAsStringAsync());
        var rotated = await rotate.JsonAsync();
        var fresh = rotated.GetProperty("key").GetString()!;

        rotated.GetProperty("id").GetString().Should().Be(id);
        rotated.GetProperty("requestsPerMinute").GetInt32().Should().Be(100);
        rotated.GetProperty("previousKeyValidUntil").GetDateTimeOffset().Should().Be(s_start.AddSeconds(60));
        fresh.Should().NotBe(old);
        using var oldClient = corral.Client(old);
        using var newClient = corral.Client(fresh);
        (await oldClient.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK, "the old secret works during the grace period");
        (await newClient.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);

        time.Advance(TimeSpan.FromSeconds(61));

        (await oldClient.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the grace period is over (same connection too)");
        (await newClient.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);

        using var again = await admin.PostAsync($"/admin/api/keys/{id}/rotate", content: null);
        var newest = (await again.JsonAsync()).GetProperty("key").GetString()!;
        (await newClient.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "without a grace period the old secret stops at once");
        using var newestClient = corral.Client(newest);
        (await newestClient.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AllowList_ModelOutsideIt_DoesNotExistForTheKey_OnEveryRoute()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen2.5:7b", "nomic-embed-text");
        var usage = new RecordedUsage();
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], services: s => s.AddSingleton<IUsageObserver>(usage));
        var (_, secret) = await corral.CreateKeyFromAsync("""{"name":"llama-only","role":"user","models":["llama3*"]}""");
        using var user = corral.Client(secret);
        using var admin = corral.Client();
        (await admin.PostJsonAsync("/api/chat", Chat("qwen2.5:7b"))).EnsureSuccessStatusCode();

        (await (await user.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Equal("llama3.2:latest");
        (await (await user.GetAsync("/v1/models")).JsonAsync()).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).Should().Equal("llama3.2:latest");
        (await (await admin.GetAsync("/api/ps")).JsonAsync()).ModelNames().Should().Contain("qwen2.5:7b");
        (await (await user.GetAsync("/api/ps")).JsonAsync()).ModelNames().Should().NotContain("qwen2.5:7b");

        var routes = new (HttpMethod Method, string Path, string Body)[]
        {
            (HttpMethod.Post, "/api/chat", Chat("{0}")),
            (HttpMethod.Post, "/api/generate", """{"model":"{0}","prompt":"hi","stream":false}"""),
            (HttpMethod.Post, "/api/embed", """{"model":"{0}","input":"hi"}"""),
            (HttpMethod.Post, "/api/embeddings", """{"model":"{0}","prompt":"hi"}"""),
            (HttpMethod.Post, "/api/show", """{"model":"{0}"}"""),
            (HttpMethod.Post, "/v1/chat/completions", OpenAiChat("{0}")),
            (HttpMethod.Post, "/v1/completions", """{"model":"{0}","prompt":"hi","max_tokens":3}"""),
            (HttpMethod.Post, "/v1/embeddings", """{"model":"{0}","input":"hi"}"""),
            (HttpMethod.Get, "/v1/models/{0}", ""),
            (HttpMethod.Post, "/ollama/api/chat", Chat("{0}")),
        };
        foreach (var model in new[] { "qwen2.5:7b", "nomic-embed-text" })
        {
            foreach (var (method, path, body) in routes)
            {
                // An unknown name of the same shape (a tag or none), whose answer names it where the refusal names the model.
                var unknown = await SendAsync(user, method, path, body, "nosuch-" + model);
                var refused = await SendAsync(user, method, path, body, model);

                refused.Status.Should().Be(unknown.Status, $"{method} {path} for {model}");
                refused.Status.Should().Be(HttpStatusCode.NotFound);
                refused.Body.Should().Be(unknown.Body.Replace("nosuch-", string.Empty, StringComparison.Ordinal), $"{path}: byte for byte the answer for an unknown model");
            }
        }

        a.Journal.Entries.Count(e => e.Path is "/api/chat" or "/api/generate" or "/api/embed" or "/api/embeddings" or "/api/show").Should().Be(1, "only the admin's chat reached the backend");
        var records = usage.Records.Where(r => r.KeyName == "llama-only" && r.Model == "qwen2.5:7b").ToArray();
        records.Should().NotBeEmpty();
        records.Should().OnlyContain(r => r.Error!.StartsWith("not allowed", StringComparison.Ordinal));
        (await user.PostJsonAsync("/api/chat", Chat("llama3.2"))).StatusCode.Should().Be(HttpStatusCode.OK, "an allowed model is served");
    }

    [Fact]
    public async Task RequestsPerMinute_OverIt_429InEachSurfacesShape_WithRetryAfterAndOpenAiHeaders_ThenRefills()
    {
        var time = new FakeTimeProvider(s_start);
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], time: time);
        var (_, secret) = await corral.CreateKeyFromAsync("""{"name":"slow","role":"user","requestsPerMinute":2}""");
        using var user = corral.Client(secret);

        using var first = await user.PostJsonAsync("/v1/chat/completions", OpenAiChat("llama3.2"));
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        Header(first, "x-ratelimit-limit-requests").Should().Be("2");
        Header(first, "x-ratelimit-remaining-requests").Should().Be("1");
        Header(first, "x-ratelimit-reset-requests").Should().Be("30s");
        first.Headers.Contains("x-ratelimit-limit-tokens").Should().BeFalse("the key has no token limit");
        (await user.PostJsonAsync("/api/chat", Chat("llama3.2"))).StatusCode.Should().Be(HttpStatusCode.OK);

        using var native = await user.PostJsonAsync("/api/chat", Chat("llama3.2"));
        native.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        native.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(30));
        (await native.ErrorAsync()).Should().StartWith("rate limit exceeded: requestsPerMinute");

        using var openAi = await user.PostJsonAsync("/v1/chat/completions", OpenAiChat("llama3.2"));
        openAi.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        var error = (await openAi.JsonAsync()).GetProperty("error");
        error.GetProperty("type").GetString().Should().Be("requests");
        error.GetProperty("code").GetString().Should().Be("rate_limit_exceeded");
        Header(openAi, "x-ratelimit-remaining-requests").Should().Be("0");
        Header(openAi, "x-ratelimit-reset-requests").Should().Be("1m0s");
        (await (await user.GetAsync("/v1/models")).Content.ReadAsStringAsync()).Should().Contain("llama3.2", "listing models is not a request against the rate");

        time.Advance(TimeSpan.FromSeconds(30));

        (await user.PostJsonAsync("/api/chat", Chat("llama3.2"))).StatusCode.Should().Be(HttpStatusCode.OK, "a request's worth came back in 30 s");
        (await user.PostJsonAsync("/api/chat", Chat("llama3.2"))).StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        a.Received("/api/chat").Should().HaveCount(3);
    }

    [Fact]
    public async Task TokensPerMinute_ChargedWhenTheAnswerEnds_ThenTheNextRequestIsRefused_MeShowsWhatRemains()
    {
        var time = new FakeTimeProvider(s_start);
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], time: time);
        var (id, secret) = await corral.CreateKeyFromAsync("""{"name":"budget","role":"user","tokensPerMinute":10}""");
        using var user = corral.Client(secret);

        using var answer = await user.PostJsonAsync("/api/chat", Chat("llama3.2"));
        var body = await answer.JsonAsync();
        var used = body.GetProperty("prompt_eval_count").GetInt64() + body.GetProperty("eval_count").GetInt64();
        used.Should().BeGreaterThanOrEqualTo(10, "the test needs one answer to use the whole minute");
        await Eventually.WaitUntilAsync(async () => (await MeAsync(user)).GetProperty("remaining").GetProperty("tokensPerMinute").GetProperty("remaining").GetInt64() == 0, "the answer's tokens were charged");

        using var refused = await user.PostJsonAsync("/v1/chat/completions", OpenAiChat("llama3.2"));
        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        (await refused.JsonAsync()).GetProperty("error").GetProperty("type").GetString().Should().Be("tokens");
        Header(refused, "x-ratelimit-limit-tokens").Should().Be("10");
        Header(refused, "x-ratelimit-remaining-tokens").Should().Be("0");
        refused.Headers.RetryAfter!.Delta!.Value.TotalSeconds.Should().BeApproximately((used - 10 + 1) * 6, 1, "10 tokens a minute come back at one per 6 s");

        var me = await MeAsync(user);
        me.GetProperty("key").GetProperty("id").GetString().Should().Be(id);
        me.GetProperty("key").TryGetProperty("key", out _).Should().BeFalse();
        me.GetProperty("remaining").GetProperty("requestsPerMinute").ValueKind.Should().Be(JsonValueKind.Null);
        await Eventually.WaitUntilAsync(
            async () =>
            {
                // The usage writer drains on its timer, which runs on the test's clock.
                time.Advance(TimeSpan.FromMilliseconds(200));
                return (await MeAsync(user)).GetProperty("usageToday").GetProperty("totalTokens").GetInt64() == used;
            },
            "the usage store has the request");
    }

    [Fact]
    public async Task MaxConcurrency_TheKeysNextRequestWaitsWithoutASlot_WhileOtherKeysGo()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.Parallel) = (20, 4));
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a") with { MaxConcurrency = 4 }]);
        var (_, one) = await corral.CreateKeyFromAsync("""{"name":"one-at-a-time","role":"user","maxConcurrency":1}""");
        using var limited = corral.Client(one);
        using var other = corral.Client(await corral.CreateKeyAsync("user", "other"));
        const string Long = """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":20}}""";

        var firstTask = limited.PostJsonAsync("/api/generate", Long);
        await Eventually.WaitUntilAsync(() => a.ActiveRequests == 1, "the key's first request runs");
        var secondTask = limited.PostJsonAsync("/api/generate", Long);
        await Eventually.WaitUntilAsync(async () => await corral.QueueDepthAsync() == 1, "the key's second request waits in the queue");
        using (var meanwhile = await other.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":2}}"""))
        {
            meanwhile.StatusCode.Should().Be(HttpStatusCode.OK, "another key is not held up");
        }

        a.ActiveRequests.Should().Be(1, "the waiting request holds no backend slot");
        using var first = await firstTask;
        using var second = await secondTask;
        first.StatusCode.Should().Be(HttpStatusCode.OK);
        second.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private static async Task<JsonElement> MeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/admin/api/keys/me");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.JsonAsync();
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpClient client, HttpMethod method, string path, string body, string model)
    {
        using var request = new HttpRequestMessage(method, path.Replace("{0}", model, StringComparison.Ordinal));
        if (method == HttpMethod.Post)
        {
            request.Content = JsonContent(body.Replace("{0}", model, StringComparison.Ordinal));
        }

        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;
}
