using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Corral.Access;
using Corral.FunctionalTests.Infrastructure;
using Corral.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Access;

/// <summary>
/// Attacks on real sockets. Each case asserts the exact status, and that nothing reached the backend or the request
/// log that should not have.
/// </summary>
public sealed class AttackTests
{
    private const string Chat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":2}}""";
    private const string OpenAiChat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""";

    private static Task<CorralInstance> StartAsync(Corral.Simulator.SimulatedOllama a, CapturedStream log, TimeProvider? time = null, Func<CorralSettings, CorralSettings>? configure = null) =>
        CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a")],
            s => (configure ?? (x => x))(s with { RequestLog = RequestLogFormat.Json, RequestLogStream = log }),
            time: time);

    private static int Inference(Corral.Simulator.SimulatedOllama a) =>
        a.Journal.Entries.Count(e => e.Path is "/api/chat" or "/api/generate" or "/api/embed" or "/api/show" or "/api/pull" or "/api/delete" or "/api/copy" or "/api/create" or "/api/push" || e.Path.StartsWith("/api/blobs", StringComparison.Ordinal));

    [Fact]
    public async Task EveryBadCredential_401_InEachSurfacesShape_NothingReachesTheBackend_NoSecretInTheLog()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-06-01T12:00:00Z", CultureInfo.InvariantCulture));
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log, time);
        using var admin = corral.Client();
        var revoked = await corral.CreateKeyFromAsync("""{"name":"revoked","role":"user"}""");
        (await admin.DeleteAsync("/admin/api/keys/" + revoked.Id)).EnsureSuccessStatusCode();
        var expired = await corral.CreateKeyFromAsync($$"""{"name":"expired","role":"user","expiresAt":"{{time.GetUtcNow().AddMinutes(1):O}}"}""");
        var rotated = await corral.CreateKeyFromAsync("""{"name":"rotated","role":"user"}""");
        (await admin.PostJsonAsync($"/admin/api/keys/{rotated.Id}/rotate", """{"graceSeconds":30}""")).EnsureSuccessStatusCode();
        var live = await corral.CreateKeyFromAsync("""{"name":"live","role":"user"}""");
        time.Advance(TimeSpan.FromMinutes(2));
        var before = Inference(a);

        var credentials = new (string What, string? Header)[]
        {
            ("no header", null),
            ("the scheme alone", "Bearer"),
            ("an empty token", "Bearer "),
            ("a token with a space", $"Bearer {live.Secret[..10]} {live.Secret[10..]}"),
            ("the wrong scheme", $"Basic {Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + CorralInstance.AdminKey))}"),
            ("another scheme with a real key", $"Token {live.Secret}"),
            ("no space after the scheme", $"Bearer{live.Secret}"),
            ("a revoked key", $"Bearer {revoked.Secret}"),
            ("an expired key", $"Bearer {expired.Secret}"),
            ("a key rotated out after its grace", $"Bearer {rotated.Secret}"),
            ("another key's id used as a key", $"Bearer {live.Id}"),
            ("the start of a key (its hint)", $"Bearer {live.Secret[..11]}"),
            ("a real key with a character more", $"Bearer {live.Secret}x"),
            ("a real key in upper case", $"Bearer {live.Secret.ToUpperInvariant()}"),
        };
        using var client = corral.Client(null);
        foreach (var (what, header) in credentials)
        {
            foreach (var (path, body) in new[] { ("/api/chat", Chat), ("/v1/chat/completions", OpenAiChat), ("/admin/api/keys", "{}") })
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                if (header is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", header);
                }

                using var response = await client.SendAsync(request);
                response.StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{what} on {path}");
                var text = await response.Content.ReadAsStringAsync();
                if (path.StartsWith("/v1", StringComparison.Ordinal))
                {
                    text.Should().Contain("\"code\":\"invalid_api_key\"");
                }
                else if (path.StartsWith("/api", StringComparison.Ordinal))
                {
                    text.Should().Be("""{"error":"unauthorized"}""");
                }
                else
                {
                    text.Should().Contain("\"status\":401");
                }
            }
        }

        Inference(a).Should().Be(before, "no refused request reached the backend");
        await log.WaitForLinesAsync(credentials.Length * 2);
        foreach (var secret in new[] { revoked.Secret, expired.Secret, rotated.Secret, live.Secret, CorralInstance.AdminKey })
        {
            log.Text.Should().NotContain(secret[7..]);
        }
    }

    [Fact]
    public async Task UserKey_OnEveryAdminRoute_403_AndNoManagementReachesTheBackend()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log);
        using var user = corral.Client(await corral.CreateKeyAsync("user"));
        var routes = corral.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<AdminOnlyEndpoint>() is not null)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Path: Fill(e.RoutePattern.RawText!))))
            .ToArray();
        routes.Length.Should().BeGreaterThan(25, "every admin route of the API and the native management routes");
        var before = Inference(a);

        foreach (var (method, path) in routes)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is "POST" or "PUT" or "PATCH" or "DELETE")
            {
                request.Content = new StringContent("""{"model":"llama3.2","name":"x","role":"admin","url":"http://10.0.0.1:11434"}""", Encoding.UTF8, "application/json");
            }

            using var response = await user.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.Forbidden, $"{method} {path}");
        }

        routes.Select(r => r.Path).Should().Contain("/admin/api/keys").And.Contain("/api/pull").And.Contain("/ollama/api/delete").And.Contain("/admin/api/audit");
        Inference(a).Should().Be(before);
        (await corral.Client().GetAsync("/admin/api/keys")).StatusCode.Should().Be(HttpStatusCode.OK, "nothing was created or changed meanwhile");
    }

    private static string Fill(string pattern) => pattern
        .Replace("{id}", "key_x", StringComparison.Ordinal)
        .Replace("{name}", "a", StringComparison.Ordinal)
        .Replace("{digest}", "sha256:" + new string('0', 64), StringComparison.Ordinal);

    [Fact]
    public async Task CrLfInHeadersAndModelNames_RefusedOrNotFound_NothingInjected()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log);
        var before = Inference(a);

        var bareCr = await RawAsync(corral, $"GET /api/tags HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {CorralInstance.AdminKey}\r\nX-Corral-Session: a\rX-Injected: yes\r\n\r\n");
        bareCr.Should().StartWith("HTTP/1.1 400 ", "a bare CR in a header value is malformed HTTP");

        using var client = corral.Client();
        const string Injected = "llama3.2\r\nX-Injected: yes";
        using var native = await client.PostJsonAsync("/api/chat", $$"""{"model":"llama3.2\r\nX-Injected: yes","messages":[]}""");
        native.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await native.ErrorAsync()).Should().Be($"model '{Injected}' not found");
        native.Headers.Contains("X-Injected").Should().BeFalse();
        using var openAi = await client.PostJsonAsync("/v1/chat/completions", $$"""{"model":"llama3.2\r\nX-Injected: yes","messages":[{"role":"user","content":"hi"}]}""");
        openAi.StatusCode.Should().Be(HttpStatusCode.NotFound);
        openAi.Headers.Contains("X-Injected").Should().BeFalse();
        using var session = new HttpRequestMessage(HttpMethod.Post, "/api/chat") { Content = new StringContent(Chat, Encoding.UTF8, "application/json") };
        session.Headers.TryAddWithoutValidation("X-Corral-Session", "a\tb");
        (await client.SendAsync(session)).StatusCode.Should().Be(HttpStatusCode.OK, "a tab is allowed in a header value");

        Inference(a).Should().Be(before + 1);
        await log.WaitForLinesAsync(3);
        log.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().OnlyContain(line => !line.Contains('\r'), "log lines stay one line each");
    }

    [Fact]
    public async Task OversizedAndDeeplyNestedJson_413And400_Never500()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log, configure: s => s with { MaxBodyBytes = 64 * 1024 });
        using var client = corral.Client();
        var big = $$"""{"model":"llama3.2","messages":[{"role":"user","content":"{{new string('x', 100_000)}}"}]}""";
        var nested = $$"""{"model":"llama3.2","messages":{{new string('[', 100_000)}}{{new string(']', 100_000)}}}""";
        var before = Inference(a);

        foreach (var path in new[] { "/api/chat", "/v1/chat/completions", "/api/generate", "/v1/embeddings" })
        {
            (await client.PostJsonAsync(path, big)).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge, path);
        }

        var deep = $$"""{"model":"llama3.2","messages":{{new string('[', 5_000)}}{{new string(']', 5_000)}}}""";
        foreach (var path in new[] { "/api/chat", "/v1/chat/completions", "/admin/api/keys", "/admin/api/backends" })
        {
            (await client.PostJsonAsync(path, deep)).StatusCode.Should().Be(HttpStatusCode.BadRequest, path);
        }

        (await client.PostJsonAsync("/api/chat", nested)).StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        Inference(a).Should().Be(before);
    }

    [Fact]
    public async Task LongAndNonAsciiModelNames_NotFound_AndRecordedCut()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log);
        using var client = corral.Client();
        var longName = new string('m', 100_000);

        using var tooLong = await client.PostJsonAsync("/api/chat", $$"""{"model":"{{longName}}","messages":[]}""");
        tooLong.StatusCode.Should().Be(HttpStatusCode.NotFound);
        using var unicode = await client.PostJsonAsync("/api/chat", """{"model":"模型:最新 🦙","messages":[]}""");
        unicode.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unicode.ErrorAsync()).Should().Be("model '模型:最新 🦙' not found");
        (await client.GetAsync("/v1/models/" + Uri.EscapeDataString("模型🦙"))).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await client.GetAsync("/v1/models/" + new string('m', 8_000))).StatusCode.Should().Be(HttpStatusCode.NotFound);

        var lines = await log.WaitForLinesAsync(4);
        lines[0].GetProperty("model").GetString()!.Length.Should().Be(256, "a client's model name is cut before it is stored or logged");
        lines[1].GetProperty("model").GetString().Should().Be("模型:最新 🦙");
    }

    [Fact]
    public async Task RequestBodyThatNeverEnds_IsCutByKestrelsRateLimit_HoldingNoSlot()
    {
        var log = new CapturedStream();
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await StartAsync(a, log);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(corral.BaseAddress.Host, corral.BaseAddress.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"POST /api/chat HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {CorralInstance.AdminKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"model\":"));

        using (var meanwhile = await corral.Client().PostJsonAsync("/api/chat", Chat))
        {
            meanwhile.StatusCode.Should().Be(HttpStatusCode.OK, "the model's only slot is not held by a request still being read");
        }

        var answer = await ReadToCloseAsync(socket, TimeSpan.FromSeconds(20));
        answer.Should().StartWith("HTTP/1.1 408 ", "Kestrel ends a body that comes slower than its minimum rate");
        a.Received("/api/chat").Should().HaveCount(1);
    }

    [Fact]
    public async Task TenThousandMalformedRequestsInARow_No5xx_StillServing_MemoryBack()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")]);
        using var client = corral.Client();
        var malformed = new (HttpMethod Method, string Path, byte[]? Body)[]
        {
            (HttpMethod.Post, "/api/chat", "{\"model\":"u8.ToArray()),
            (HttpMethod.Post, "/api/chat", "[1,2,3]"u8.ToArray()),
            (HttpMethod.Post, "/api/generate", """{"model":5,"prompt":[]}"""u8.ToArray()),
            (HttpMethod.Post, "/api/chat", [0xff, 0xfe, 0x7b, 0x22]),
            (HttpMethod.Post, "/v1/chat/completions", """{"model":"llama3.2","messages":"no"}"""u8.ToArray()),
            (HttpMethod.Post, "/v1/completions", "{}"u8.ToArray()),
            (HttpMethod.Post, "/api/embed", """{"model":"llama3.2","input":{"a":1}}"""u8.ToArray()),
            (HttpMethod.Post, "/api/blobs/sha256:nothex", "x"u8.ToArray()),
            (HttpMethod.Delete, "/api/chat", null),
            (HttpMethod.Get, "/api/nothing/at/all", null),
            (HttpMethod.Post, "/admin/api/keys", """{"name":"","role":"god"}"""u8.ToArray()),
            (HttpMethod.Patch, "/admin/api/keys/key_none", "not json"u8.ToArray()),
            (HttpMethod.Post, "/api/show", Array.Empty<byte>()),
        };

        var padding = new string('x', 8_000);
        async Task SendAsync(int count, int offset)
        {
            for (var i = 0; i < count; i++)
            {
                var (method, path, body) = malformed[(i + offset) % malformed.Length];
                if (i % 2 == 0)
                {
                    // Every other request names a model nobody has, long and never the same, so no cache may keep them all.
                    (method, path, body) = (HttpMethod.Post, "/api/chat", Encoding.UTF8.GetBytes($$"""{"model":"nosuch-{{i + offset}}-{{padding}}","messages":[]}"""));
                }

                using var request = new HttpRequestMessage(method, path);
                if (body is not null)
                {
                    request.Content = new ByteArrayContent(body);
                    request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                }

                using var response = await client.SendAsync(request);
                ((int)response.StatusCode).Should().BeInRange(400, 499, $"{method} {path}");
            }
        }

        // The usage records of the requests wait in the writer's buffer until their batch is written: memory is
        // measured once they are in the store, or the batch in flight would count as a leak.
        var usage = corral.Server.Services.GetRequiredService<Corral.Usage.IUsageBuffer>();
        Task WrittenAsync() => Eventually.WaitUntilAsync(() => usage.WriteLag == TimeSpan.Zero, "every usage record is written");
        await SendAsync(1_000, 0);
        await WrittenAsync();
        var before = ManagedMemory();
        await SendAsync(10_000, 7);
        await WrittenAsync();
        var after = ManagedMemory();

        (await client.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        (after - before).Should().BeLessThan(16 * 1024 * 1024, $"memory is back where it was ({before / 1024} KB before, {after / 1024} KB after)");
    }

    private static long ManagedMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<string> RawAsync(CorralInstance corral, string request)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(corral.BaseAddress.Host, corral.BaseAddress.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        return await ReadToCloseAsync(socket, TimeSpan.FromSeconds(10), stopAtBlankLine: true);
    }

    private static async Task<string> ReadToCloseAsync(Socket socket, TimeSpan limit, bool stopAtBlankLine = false)
    {
        using var deadline = new CancellationTokenSource(limit);
        var text = new StringBuilder();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (read == 0)
                {
                    break;
                }

                text.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (stopAtBlankLine && text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the connection was neither answered nor closed within {limit.TotalSeconds} s; so far: {text}");
        }
        catch (SocketException)
        {
            // Reset by the server: what came before is the answer.
        }

        return text.ToString();
    }
}
