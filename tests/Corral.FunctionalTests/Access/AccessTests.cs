using System.Net;
using System.Text;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Access;

/// <summary>Bearer keys: who gets in, who may manage, and that secrets are never kept.</summary>
public sealed class AccessTests
{
    [Fact]
    public async Task NoKeyOrUnknownKey_401OllamaShaped_HealthProbesOpen()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);

        foreach (var key in new string?[] { null, "corral_not-a-real-key", CorralInstance.AdminKey + "x" })
        {
            using var client = corral.Client(key);
            foreach (var path in new[] { "/", "/api/tags", "/ollama/api/tags", "/api/version", "/admin/api/keys" })
            {
                using var response = await client.GetAsync(path);
                response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{path} with key '{key}'");
                response.Headers.WwwAuthenticate.ToString().Should().Be("Bearer");
            }

            using var chat = await client.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[]}""");
            chat.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            (await chat.ErrorAsync()).Should().Be("unauthorized");
        }

        using var anonymous = corral.Client(null);
        (await anonymous.GetAsync("/healthz")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await anonymous.GetAsync("/readyz")).StatusCode.Should().Be(HttpStatusCode.OK);
        a.Received("/api/chat").Should().BeEmpty();
    }

    [Fact]
    public async Task UserKey_CanInferButNotManage_403OnAdminRoutes()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var user = corral.Client(await corral.CreateKeyAsync("user"));

        (await user.PostJsonAsync("/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}""")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await user.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);

        var managed = new (HttpMethod Method, string Path, string? Body)[]
        {
            (HttpMethod.Post, "/api/pull", """{"model":"phi3"}"""),
            (HttpMethod.Post, "/api/push", """{"model":"llama3.2"}"""),
            (HttpMethod.Post, "/api/create", """{"model":"m","from":"llama3.2"}"""),
            (HttpMethod.Post, "/api/copy", """{"source":"llama3.2","destination":"x"}"""),
            (HttpMethod.Delete, "/api/delete", """{"model":"llama3.2"}"""),
            (HttpMethod.Post, "/api/blobs/sha256:" + new string('0', 64), "x"),
            (HttpMethod.Head, "/api/blobs/sha256:" + new string('0', 64), null),
            (HttpMethod.Get, "/admin/api/keys", null),
            (HttpMethod.Get, "/admin/api/backends", null),
        };
        foreach (var (method, path, body) in managed)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await user.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden, $"{method} {path}");
        }

        a.Journal.Entries.Should().NotContain(e => e.Path == "/api/pull" || e.Path == "/api/delete" || e.Path == "/api/copy" || e.Path.StartsWith("/api/blobs", StringComparison.Ordinal));
        (await (await user.GetAsync("/admin/api/keys")).Content.ReadAsStringAsync()).Should().Contain("\"status\":403", "the admin API answers problem JSON");
    }

    [Fact]
    public async Task RevokedKey_IsRefusedFromTheNextRequest()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();
        using var created = await admin.PostJsonAsync("/admin/api/keys", """{"name":"temp","role":"user"}""");
        var body = await created.JsonAsync();
        using var user = corral.Client(body.GetProperty("key").GetString());
        (await user.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);

        using var revoke = await admin.DeleteAsync("/admin/api/keys/" + body.GetProperty("id").GetString());

        revoke.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await user.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await admin.DeleteAsync("/admin/api/keys/" + body.GetProperty("id").GetString())).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ExpiredKey_IsRefusedOnceItsTimeHasPassed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], time: time);
        using var user = corral.Client(await corral.CreateKeyAsync("user", expiresAt: time.GetUtcNow().AddHours(1)));
        (await user.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);

        time.Advance(TimeSpan.FromHours(2));

        (await user.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task FirstStart_WithoutAdminKey_CreatesOneOnce_AndStoresOnlyItsHash()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var data = Path.Combine(Path.GetTempPath(), "corral-ft-" + Guid.NewGuid().ToString("N"));
        string generated;
        await using (var first = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { AdminKey = null }, data))
        {
            generated = first.Server.GeneratedAdminKey!;
            generated.Should().StartWith("corral_");
            using var admin = first.Client(generated);
            (await admin.GetAsync("/admin/api/keys")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        await using var second = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { AdminKey = null }, data);
        second.Server.GeneratedAdminKey.Should().BeNull("an admin key is already stored");
        using var again = second.Client(generated);
        var list = await (await again.GetAsync("/admin/api/keys")).Content.ReadAsStringAsync();
        list.Should().NotContain(generated);

        var database = await File.ReadAllBytesAsync(Path.Combine(data, "corral.db"));
        var wal = File.Exists(Path.Combine(data, "corral.db-wal")) ? await File.ReadAllBytesAsync(Path.Combine(data, "corral.db-wal")) : [];
        Encoding.UTF8.GetString(database).Should().NotContain(generated[10..], "only the hash is stored");
        Encoding.UTF8.GetString(wal).Should().NotContain(generated[10..]);
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public async Task AuthOff_ServesWithoutAKey()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { AuthEnabled = false, AdminKey = null });
        using var anonymous = corral.Client(null);

        (await anonymous.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);
        corral.Server.GeneratedAdminKey.Should().BeNull("no key is needed, so none is created");
    }
}
