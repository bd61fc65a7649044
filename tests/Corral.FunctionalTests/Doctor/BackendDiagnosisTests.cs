using System.Net;
using System.Text.Json;
using Corral.Fleet;
using Corral.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.FunctionalTests.Doctor;

/// <summary>What Corral itself says about a backend it cannot use: the doctor's finding in its log, its admin view and its answers.</summary>
public sealed class BackendDiagnosisTests
{
    [Fact]
    public async Task ABackendThatGoesDown_ItsLogLineAndAdminView_CarryTheDoctorsFindingAndFix()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var log = new CapturedLog();
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(sim, "gpu1"), Dead("gpu2", out var port)],
            s => s with { LogLevel = LogLevel.Warning },
            services: s => s.AddSingleton<ILoggerProvider>(log));

        await Eventually.WaitUntilAsync(async () => (await corral.BackendAsync("gpu2")).GetProperty("diagnosis").ValueKind == JsonValueKind.Object, "gpu2 is diagnosed");

        var diagnosis = (await corral.BackendAsync("gpu2")).GetProperty("diagnosis");
        diagnosis.GetProperty("check").GetString().Should().Be("tcp");
        diagnosis.GetProperty("finding").GetString().Should().Be($"127.0.0.1:{port} refused the connection: nothing listens there, or Ollama listens on 127.0.0.1 only");
        diagnosis.GetProperty("fix").GetString().Should().Contain("OLLAMA_HOST=0.0.0.0");
        (await corral.BackendAsync("gpu1")).GetProperty("diagnosis").ValueKind.Should().Be(JsonValueKind.Null);
        await Eventually.WaitUntilAsync(() => log.Lines.Any(l => l.Contains("Backend gpu2 is down", StringComparison.Ordinal)), "the down line is logged");
        log.Lines.Where(l => l.Contains("Backend gpu2 is down", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain($"Doctor: 127.0.0.1:{port} refused the connection").And.Contain("fix: make Ollama listen on every interface: OLLAMA_HOST=0.0.0.0");
    }

    [Fact]
    public async Task ABackendThatStaysDown_ForAnotherReason_IsDiagnosedAgain_AndTheLogSaysWhatChanged()
    {
        var log = new CapturedLog();
        await using var corral = await CorralInstance.StartAsync(
            [Dead("gpu2", out var port)],
            s => s with { LogLevel = LogLevel.Warning, HealthInterval = TimeSpan.FromMilliseconds(200), RediagnoseInterval = TimeSpan.FromMilliseconds(300) },
            services: s => s.AddSingleton<ILoggerProvider>(log));
        await Eventually.WaitUntilAsync(async () => (await corral.BackendAsync("gpu2")).GetProperty("diagnosis").ValueKind == JsonValueKind.Object, "gpu2 is diagnosed");
        (await corral.BackendAsync("gpu2")).GetProperty("diagnosis").GetProperty("check").GetString().Should().Be("tcp");

        // Now something answers on the port, but it is not Ollama.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        await using var other = builder.Build();
        other.Run(context => context.Response.WriteAsync("welcome to some other service"));
        await other.StartAsync();

        await Eventually.WaitUntilAsync(
            async () => (await corral.BackendAsync("gpu2")).GetProperty("diagnosis") is { ValueKind: JsonValueKind.Object } d && d.GetProperty("check").GetString() != "tcp",
            "gpu2 is diagnosed again");
        var diagnosis = (await corral.BackendAsync("gpu2")).GetProperty("diagnosis");
        diagnosis.GetProperty("finding").GetString().Should().NotContain("refused");
        (await corral.BackendAsync("gpu2")).GetProperty("state").GetString().Should().Be("unhealthy");
        await Eventually.WaitUntilAsync(() => log.Lines.Any(l => l.Contains("Backend gpu2 is still down, and the doctor's finding changed", StringComparison.Ordinal)), "the change is logged");
        log.Lines.Where(l => l.Contains("is still down", StringComparison.Ordinal)).Should().ContainSingle("the same finding again is not logged again")
            .Which.Should().Contain(diagnosis.GetProperty("finding").GetString());
    }

    [Fact]
    public async Task AnUnknownModel_WhileABackendCouldNotBeListed_Is503NamingIt_InEachSurfacesShape()
    {
        await using var sim = await Sim.StartAsync("qwen3");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "gpu1"), Dead("gpu2", out var port)]);
        using var client = corral.Client();
        await Eventually.WaitUntilAsync(async () => (await corral.BackendAsync("gpu2")).GetProperty("diagnosis").ValueKind == JsonValueKind.Object, "gpu2 is diagnosed");

        using var native = await client.PostAsync("/api/chat", Json("""{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}"""));
        using var openAi = await client.PostAsync("/v1/chat/completions", Json("""{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}"""));
        using var known = await client.PostAsync("/api/chat", Json("""{"model":"qwen3","messages":[{"role":"user","content":"hi"}],"stream":false}"""));

        native.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        native.Headers.RetryAfter!.Delta.Should().BePositive();
        var message = JsonDocument.Parse(await native.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString();
        message.Should().Be($"model 'llama3.2' is not known: backend gpu2 could not be reached: 127.0.0.1:{port} refused the connection: nothing listens there, or Ollama listens on 127.0.0.1 only; fix: "
            + (await corral.BackendAsync("gpu2")).GetProperty("diagnosis").GetProperty("fix").GetString());
        openAi.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        JsonDocument.Parse(await openAi.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString().Should().Be(message);
        known.StatusCode.Should().Be(HttpStatusCode.OK, "a model that is listed is served as ever");
        sim.Received("/api/chat").Should().ContainSingle();
    }

    [Fact]
    public async Task AnUnknownModel_WithEveryBackendListed_StaysOllamasNotFound_AndSoDoesANameOutsideTheKeysAllowList()
    {
        await using var sim = await Sim.StartAsync("qwen3");
        await using var listed = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "gpu1")]);
        await using var partly = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "gpu1"), Dead("gpu2", out _)]);
        await Eventually.WaitUntilAsync(async () => (await partly.BackendAsync("gpu2")).GetProperty("diagnosis").ValueKind == JsonValueKind.Object, "gpu2 is diagnosed");
        var (_, secret) = await partly.CreateKeyFromAsync("""{"name":"team","role":"user","models":["qwen*"]}""");
        using var admin = listed.Client();
        using var user = partly.Client(secret);

        using var unknown = await admin.PostAsync("/api/chat", Json("""{"model":"llama3.2","messages":[],"stream":false}"""));
        using var outside = await user.PostAsync("/api/chat", Json("""{"model":"llama3.2","messages":[],"stream":false}"""));

        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'llama3.2' not found"}""");
        outside.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await outside.Content.ReadAsStringAsync()).Should().Be("""{"error":"model 'llama3.2' not found"}""");
    }

    [Fact]
    public async Task AdminDoctor_RunsTheChecksOnCorralsBackends_WithTheirKeys_AdminsOnly()
    {
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.RequiredBearerKey = "proxy-token-123");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "gpu1", key: "proxy-token-123"), Dead("gpu2", out var port)]);
        var user = await corral.CreateKeyAsync("user");
        using var admin = corral.Client();
        using var notAdmin = corral.Client(user);

        using var answer = await admin.GetAsync("/admin/api/doctor?model=llama3.2");
        using var refused = await notAdmin.GetAsync("/admin/api/doctor");

        answer.StatusCode.Should().Be(HttpStatusCode.OK);
        var report = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
        report.GetProperty("environment").TryGetProperty("docker", out _).Should().BeTrue();
        var targets = report.GetProperty("targets").EnumerateArray().ToArray();
        targets.Select(t => t.GetProperty("url").GetString()).Should().Equal(sim.BaseAddress.ToString().TrimEnd('/'), $"http://127.0.0.1:{port}");
        // The key is sent: the bearer proxy lets the checks through to the models.
        targets[0].GetProperty("status").GetString().Should().NotBe("fail");
        targets[0].GetProperty("checks").EnumerateArray().Last().GetProperty("finding").GetString().Should().StartWith("1 model, llama3.2 among them");
        targets[1].GetProperty("status").GetString().Should().Be("fail");
        targets[1].GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "tcp").GetProperty("fix").GetString().Should().Contain("OLLAMA_HOST=0.0.0.0");
        // gpu1 is in use, so it is never the replacement recommended for gpu2.
        targets[1].GetProperty("found").EnumerateArray().Select(f => f.GetProperty("url").GetString()).Should().NotContain(sim.BaseAddress.ToString().TrimEnd('/'));
        report.TryGetProperty("recommendation", out _).Should().BeTrue();
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Verify_ReturnsTheDoctorsChecks_AndWhatDiscoveryFound()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(sim, "gpu1")]);
        using var admin = corral.Client();
        var wrong = $"http://ollama-is-not-here.invalid:{sim.BaseAddress.Port}";

        using var good = await admin.PostJsonAsync("/admin/api/backends/verify", $$"""{"url":"{{sim.BaseAddress}}"}""");
        using var bad = await admin.PostJsonAsync("/admin/api/backends/verify", $$"""{"url":"{{wrong}}"}""");

        var ok = await good.JsonAsync();
        ok.GetProperty("ok").GetBoolean().Should().BeTrue();
        ok.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).Should().Equal("url", "dns", "tcp", "http", "models");
        var failed = await bad.JsonAsync();
        failed.GetProperty("ok").GetBoolean().Should().BeFalse();
        failed.GetProperty("status").GetString().Should().Be("fail");
        failed.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "dns").GetProperty("status").GetString().Should().Be("fail");
        failed.GetProperty("found").EnumerateArray().Select(f => f.GetProperty("url").GetString()).Should().Contain($"http://127.0.0.1:{sim.BaseAddress.Port}");
    }

    private static BackendOptions Dead(string name, out int port)
    {
        port = Ports.Free();
        return new BackendOptions { Name = name, Url = new Uri($"http://127.0.0.1:{port}") };
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
