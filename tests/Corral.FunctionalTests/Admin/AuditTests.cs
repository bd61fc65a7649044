using System.Net;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Admin;

/// <summary>Every admin action is in the audit: who, from where, what, on what, and how it ended.</summary>
public sealed class AuditTests
{
    [Fact]
    public async Task AdminActions_AreRecorded_NewestFirst_WithKeyAddressTargetAndOutcome()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();
        using var created = await admin.PostJsonAsync("/admin/api/keys", """{"name":"team","role":"user"}""");
        var id = (await created.JsonAsync()).GetProperty("id").GetString()!;
        var secret = (await created.JsonAsync()).GetProperty("key").GetString()!;
        (await admin.PatchAsync($"/admin/api/keys/{id}", new StringContent("""{"requestsPerMinute":5}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await admin.PostAsync($"/admin/api/keys/{id}/rotate", null)).EnsureSuccessStatusCode();
        (await admin.PostJsonAsync("/admin/api/backends", $$"""{"name":"b","url":"{{b.BaseAddress.ToString().TrimEnd('/')}}"}""")).StatusCode.Should().Be(HttpStatusCode.Created);
        (await admin.PostAsync("/admin/api/backends/a/drain", null)).EnsureSuccessStatusCode();
        (await admin.PostAsync("/admin/api/backends/nope/enable", null)).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await admin.PostJsonAsync("/api/pull", """{"model":"phi3","stream":false}""")).EnsureSuccessStatusCode();
        using var user = corral.Client((await (await admin.PostJsonAsync("/admin/api/keys", """{"name":"intruder","role":"user"}""")).JsonAsync()).GetProperty("key").GetString());
        (await user.DeleteAsync($"/admin/api/keys/{id}")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await admin.DeleteAsync($"/admin/api/keys/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await admin.GetAsync("/admin/api/keys")).EnsureSuccessStatusCode();
        secret.Should().NotBeEmpty();

        var events = (await (await admin.GetAsync("/admin/api/audit")).JsonAsync()).GetProperty("events").EnumerateArray().ToArray();

        events.Select(e => e.GetProperty("action").GetString()).Should().Equal(
            "key.revoke", "key.revoke", "key.create", "model.pull", "backend.enable", "backend.drain", "backend.add", "key.rotate", "key.update", "key.create");
        var revoke = events[0];
        revoke.GetProperty("keyId").GetString().Should().Be("admin-key-option");
        revoke.GetProperty("target").GetString().Should().Be(id);
        revoke.GetProperty("outcome").GetString().Should().Be("ok");
        revoke.GetProperty("address").GetString().Should().Be("127.0.0.1");
        events[1].GetProperty("keyName").GetString().Should().Be("intruder");
        events[1].GetProperty("outcome").GetString().Should().StartWith("403 forbidden");
        events[3].GetProperty("target").GetString().Should().Be("phi3");
        events[4].GetProperty("outcome").GetString().Should().StartWith("404 ");
        events[4].GetProperty("target").GetString().Should().Be("nope");
        events[6].GetProperty("target").GetString().Should().Be("b");
        events[^1].GetProperty("target").GetString().Should().Be(id);
        events.Should().OnlyContain(e => e.GetProperty("time").ValueKind == JsonValueKind.String);
        JsonSerializer.Serialize(events).Should().NotContain(secret[7..], "no secret is audited");

        var limited = (await (await admin.GetAsync("/admin/api/audit?limit=2")).JsonAsync()).GetProperty("events").GetArrayLength();
        limited.Should().Be(2);
        using var bad = await admin.GetAsync("/admin/api/audit?from=yesterday&colour=red");
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.JsonAsync()).GetProperty("detail").GetString().Should().Contain("from").And.Contain("colour");
        (await user.GetAsync("/admin/api/audit")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Audit_FilteredByActionOrItsFamily_AndByActorIdOrName()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var admin = corral.Client();
        using var created = await admin.PostJsonAsync("/admin/api/keys", """{"name":"intruder","role":"user"}""");
        var id = (await created.JsonAsync()).GetProperty("id").GetString()!;
        using var user = corral.Client((await created.JsonAsync()).GetProperty("key").GetString());
        (await admin.PostAsync("/admin/api/backends/a/drain", null)).EnsureSuccessStatusCode();
        (await user.PostAsync("/admin/api/backends/a/enable", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await admin.DeleteAsync($"/admin/api/keys/{id}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        async Task<string[]> ListAsync(string query)
        {
            using var response = await admin.GetAsync("/admin/api/audit?" + query);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            return [.. (await response.JsonAsync()).GetProperty("events").EnumerateArray()
                .Select(e => e.GetProperty("action").GetString() + " by " + e.GetProperty("keyName").GetString())];
        }

        (await ListAsync("action=key.create")).Should().Equal("key.create by admin (--admin-key)");
        (await ListAsync("action=key.")).Should().Equal("key.revoke by admin (--admin-key)", "key.create by admin (--admin-key)");
        (await ListAsync("action=backend")).Should().Equal("backend.enable by intruder", "backend.drain by admin (--admin-key)");
        (await ListAsync("actor=intruder")).Should().Equal("backend.enable by intruder");
        (await ListAsync("actor=" + id)).Should().Equal("backend.enable by intruder");
        (await ListAsync("actor=admin-key-option&action=backend.&limit=1")).Should().Equal("backend.drain by admin (--admin-key)");
        (await ListAsync("action=model.")).Should().BeEmpty();
    }
}
