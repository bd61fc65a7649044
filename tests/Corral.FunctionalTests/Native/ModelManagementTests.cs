using System.Net;
using System.Security.Cryptography;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Native;

/// <summary>pull, create, copy, delete, push and blobs across the fleet.</summary>
public sealed class ModelManagementTests
{
    [Fact]
    public async Task Pull_TwoBackends_OneCoherentProgressStream_AndTheModelIsUsableAtOnce()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var pull = await client.PostJsonAsync("/api/pull", """{"model":"phi3"}""");
        var lines = await pull.NdjsonAsync();

        pull.StatusCode.Should().Be(HttpStatusCode.OK);
        pull.Content.Headers.ContentType!.MediaType.Should().Be("application/x-ndjson");
        var statuses = lines.Select(l => l.GetProperty("status").GetString()).ToArray();
        statuses.Count(s => s == "pulling manifest").Should().Be(1, "a plain status is shown once, not once per backend");
        statuses[^1].Should().Be("success");
        statuses.Count(s => s == "success").Should().Be(1);
        var layer = lines.Last(l => l.TryGetProperty("completed", out _));
        layer.GetProperty("completed").GetInt64().Should().Be(layer.GetProperty("total").GetInt64(), "the last progress of a layer is complete on both backends");
        a.Received("/api/pull").Should().ContainSingle();
        b.Received("/api/pull").Should().ContainSingle();

        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Contain("phi3:latest");
        using var chat = await client.PostJsonAsync("/api/chat", """{"model":"phi3","messages":[{"role":"user","content":"hi"}],"stream":false}""");
        chat.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Pull_OneBackendDown_FinalLineNamesIt_AndTheOtherStillPulls()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();
        await b.StopAsync();

        using var pull = await client.PostJsonAsync("/api/pull", """{"model":"phi3"}""");
        var lines = await pull.NdjsonAsync();

        var error = lines[^1].GetProperty("error").GetString();
        error.Should().Contain("1 of 2 backends").And.Contain("backend 'b'").And.Contain("connection refused").And.Contain("succeeded on 'a'");
        a.ModelNames.Should().Contain("phi3:latest");
    }

    [Fact]
    public async Task Pull_NamedBackend_GoesOnlyThere_NonStreamAnswersOneObject()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var pull = await client.PostJsonAsync("/api/pull?backend=b", """{"model":"phi3","stream":false}""");

        pull.StatusCode.Should().Be(HttpStatusCode.OK);
        (await pull.JsonAsync()).GetProperty("status").GetString().Should().Be("success");
        a.Received("/api/pull").Should().BeEmpty();
        b.Received("/api/pull").Should().ContainSingle();

        using var header = new HttpRequestMessage(HttpMethod.Post, "/api/pull") { Content = new StringContent("""{"model":"tinyllama","stream":false}""") };
        header.Headers.Add("X-Corral-Backend", "a");
        (await client.SendAsync(header)).StatusCode.Should().Be(HttpStatusCode.OK);
        a.ModelNames.Should().Contain("tinyllama:latest");
        b.ModelNames.Should().NotContain("tinyllama:latest");

        using var unknown = await client.PostJsonAsync("/api/pull?backend=zzz", """{"model":"phi3"}""");
        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknown.ErrorAsync()).Should().Contain("unknown backend 'zzz'").And.Contain("a, b");
    }

    [Fact]
    public async Task Pull_PrefixedName_GoesToTheBackendsWithThatPrefix_WithoutIt()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b", prefix: "gpu")]);
        using var client = corral.Client();

        using var pull = await client.PostJsonAsync("/api/pull", """{"model":"gpu.phi3","stream":false}""");

        pull.StatusCode.Should().Be(HttpStatusCode.OK);
        a.Received("/api/pull").Should().BeEmpty();
        b.Received("/api/pull").Single().Model.Should().Be("phi3");
        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Contain("gpu.phi3:latest");
    }

    [Fact]
    public async Task Pull_BackendReportsAnError_SingleBackendPassesItThrough()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();

        using var pull = await client.PostJsonAsync("/api/pull", """{"model":"doesnotexist"}""");
        var lines = await pull.NdjsonAsync();

        lines[^1].GetProperty("error").GetString().Should().Be("pull model manifest: file does not exist");
    }

    [Fact]
    public async Task Delete_GoesOnlyToBackendsHoldingTheModel_AndUnlistsIt()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = new StringContent("""{"model":"qwen3"}""") };
        using var response = await client.SendAsync(delete);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().BeEmpty();
        a.Received("/api/delete").Should().ContainSingle();
        b.Received("/api/delete").Should().BeEmpty();
        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().NotContain("qwen3:latest");

        using var again = new HttpRequestMessage(HttpMethod.Delete, "/api/delete") { Content = new StringContent("""{"model":"qwen3"}""") };
        using var missing = await client.SendAsync(again);
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await missing.ErrorAsync()).Should().Be("model 'qwen3' not found");
    }

    [Fact]
    public async Task Copy_OnEveryHolder_DifferentDigestsUnderOneName_AreReportedAsAConflict()
    {
        await using var a = await Sim.StartAsync("llama3.2", "qwen3");
        await using var b = await Sim.StartAsync("llama3.2", "qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        (await client.PostJsonAsync("/api/copy", """{"source":"llama3.2","destination":"everywhere"}""")).StatusCode.Should().Be(HttpStatusCode.OK);
        a.ModelNames.Should().Contain("everywhere:latest");
        b.ModelNames.Should().Contain("everywhere:latest");

        (await client.PostJsonAsync("/api/copy?backend=a", """{"source":"llama3.2","destination":"mine"}""")).EnsureSuccessStatusCode();
        (await client.PostJsonAsync("/api/copy?backend=b", """{"source":"qwen3","destination":"mine"}""")).EnsureSuccessStatusCode();

        var backends = await (await client.GetAsync("/admin/api/backends")).JsonAsync();
        var conflict = backends.GetProperty("conflicts").EnumerateArray().Single();
        conflict.GetProperty("model").GetString().Should().Be("mine:latest");
        conflict.GetProperty("backends").EnumerateArray().Select(h => h.GetProperty("backend").GetString()).Should().BeEquivalentTo(["a", "b"]);
        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Count(n => n == "mine:latest").Should().Be(1);

        using var missing = await client.PostJsonAsync("/api/copy", """{"source":"nothing","destination":"x"}""");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await missing.ErrorAsync()).Should().Be("model \"nothing\" not found");
    }

    [Fact]
    public async Task Blobs_UploadIsTeedToEveryBackend_AndHeadSeesItEverywhere()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();
        var bytes = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/blobs/" + digest))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var upload = await client.PostAsync("/api/blobs/" + digest, new ByteArrayContent(bytes));

        upload.StatusCode.Should().Be(HttpStatusCode.Created);
        (await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/blobs/" + digest))).StatusCode.Should().Be(HttpStatusCode.OK);
        a.Received("/api/blobs/" + digest).Single(e => e.Method == "POST").BodyLength.Should().Be(bytes.Length);
        b.Received("/api/blobs/" + digest).Single(e => e.Method == "POST").BodyLength.Should().Be(bytes.Length);

        var wrong = "sha256:" + new string('a', 64);
        using var mismatch = await client.PostAsync("/api/blobs/" + wrong, new ByteArrayContent(bytes));
        mismatch.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await mismatch.ErrorAsync()).Should().Contain("digest mismatch").And.Contain("backend 'a'").And.Contain("backend 'b'");
    }

    [Fact]
    public async Task Create_FromAModel_RunsOnEveryBackend_AndIsListed()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a"), CorralInstance.Backend(b, "b")]);
        using var client = corral.Client();

        using var create = await client.PostJsonAsync("/api/create", """{"model":"pirate","from":"llama3.2","system":"Talk like a pirate."}""");
        var lines = await create.NdjsonAsync();

        lines[^1].GetProperty("status").GetString().Should().Be("success");
        a.ModelNames.Should().Contain("pirate:latest");
        b.ModelNames.Should().Contain("pirate:latest");
        (await (await client.GetAsync("/api/tags")).JsonAsync()).ModelNames().Should().Contain("pirate:latest");

        using var invalid = await client.PostJsonAsync("/api/create?backend=a", """{"model":"nothing"}""");
        invalid.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await invalid.ErrorAsync()).Should().Be("neither 'from' or 'files' was specified");
    }
}
