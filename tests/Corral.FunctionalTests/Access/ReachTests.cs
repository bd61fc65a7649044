using System.Net;
using System.Net.Sockets;
using Corral.FunctionalTests.Infrastructure;
using Corral.Hosting;
using Corral.Simulator;
using Corral.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Access;

/// <summary>Clients that can only be given a URL: a key in the path, and trusted networks (and the proxies that speak for them).</summary>
public sealed class ReachTests
{
    private const string Chat = """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false,"options":{"num_predict":2}}""";

    private static async Task<(CorralInstance Corral, RecordedUsage Usage, CapturedStream Log)> StartAsync(SimulatedOllama a, Func<CorralSettings, CorralSettings> configure)
    {
        var usage = new RecordedUsage();
        var log = new CapturedStream();
        var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a")],
            s => configure(s with { RequestLog = RequestLogFormat.Json, RequestLogStream = log }),
            services: s => s.AddSingleton<IUsageObserver>(usage));
        return (corral, usage, log);
    }

    /// <summary>A client whose connections come from <paramref name="source"/> (any 127.x address is this machine's loopback).</summary>
    private static HttpClient ClientFrom(CorralInstance corral, string source, string? key = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var client = new HttpClient(handler) { BaseAddress = corral.BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    [Fact]
    public async Task KeyInPath_On_ServesEveryDoorAsThatKey_AndTheKeyIsInNoRecordOrLogLine()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage, log) = await StartAsync(a, s => s with { KeyInPath = true });
        await using var _ = corral;
        var key = await corral.CreateKeyAsync("user", "perplexica");
        using var anonymous = corral.Client(null);

        (await anonymous.GetAsync($"/k/{key}/api/tags")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await anonymous.GetAsync($"/k/{key}/v1/models")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await anonymous.PostJsonAsync($"/k/{key}/ollama/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await anonymous.PostJsonAsync($"/k/{key}/v1/chat/completions", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"max_tokens":2}""")).StatusCode.Should().Be(HttpStatusCode.OK);
        using var unknown = await anonymous.GetAsync($"/k/{key}/api/nothing");
        (await anonymous.GetAsync("/k/corral_wrong-key/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.ErrorAsync()).Should().Be("no such route: GET /api/nothing");
        var records = await usage.WaitForAsync("/api/chat");
        records.Single().KeyName.Should().Be("perplexica");
        await log.WaitForLinesAsync(6);
        var secretPart = key[7..];
        log.Text.Should().NotContain(secretPart);
        usage.Records.Should().NotContain(r => (r.Error ?? string.Empty).Contains(secretPart, StringComparison.Ordinal));
        a.Journal.Entries.Should().NotContain(e => e.Path.Contains("/k/", StringComparison.Ordinal), "the backend gets the plain path");
    }

    [Fact]
    public async Task KeyInPath_Off_IsAnUnknownRoute_WithTheKeyMaskedInTheAnswerAndRecord()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage, log) = await StartAsync(a, s => s);
        await using var _ = corral;
        var key = await corral.CreateKeyAsync("user", "perplexica");
        using var withKey = corral.Client(key);

        using var response = await withKey.PostJsonAsync($"/k/{key}/api/chat", Chat);

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.ErrorAsync()).Should().Be("no such route: POST /k/…/api/chat");
        var record = await usage.SingleAsync("(unmatched)");
        record.Error.Should().NotContain(key[7..]);
        await log.WaitForLinesAsync(1);
        log.Text.Should().NotContain(key[7..]);
        a.Received("/api/chat").Should().BeEmpty();
    }

    [Fact]
    public async Task TrustedNetwork_ClientsFromItNeedNoKey_WithItsRole_OthersDo()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, usage, _) = await StartAsync(a, s => s with { TrustedNetworks = [Trusted("127.0.0.5/32=user")] });
        await using var __ = corral;
        using var trusted = ClientFrom(corral, "127.0.0.5");
        using var outsider = ClientFrom(corral, "127.0.0.6");

        (await trusted.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await trusted.GetAsync("/admin/api/keys")).StatusCode.Should().Be(HttpStatusCode.Forbidden, "the network's role is user");
        (await outsider.PostJsonAsync("/api/chat", Chat)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var wrongKey = ClientFrom(corral, "127.0.0.5", "corral_not-a-key");
        (await wrongKey.GetAsync("/api/tags")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a key that is sent decides, even from a trusted network");

        var record = (await usage.WaitForAsync("/api/chat", 2)).First(r => r.Status == 200);
        record.KeyName.Should().Be("network:127.0.0.5/32");
        a.Received("/api/chat").Should().HaveCount(1);
    }

    [Fact]
    public async Task TrustedNetwork_ClaimedThroughXForwardedFor_CountsOnlyFromATrustedProxy()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var (corral, _, _) = await StartAsync(a, s => s with
        {
            TrustedNetworks = [Trusted("10.1.0.0/16=user")],
            TrustedProxies = [IPNetwork.Parse("127.0.0.7/32")],
        });
        await using var __ = corral;
        using var proxy = ClientFrom(corral, "127.0.0.7");
        using var stranger = ClientFrom(corral, "127.0.0.8");

        (await SendForwardedAsync(stranger, "10.1.2.3")).Should().Be(HttpStatusCode.Unauthorized, "a header from a peer that is not a trusted proxy is ignored");
        (await SendForwardedAsync(proxy, "10.1.2.3")).Should().Be(HttpStatusCode.OK);
        (await SendForwardedAsync(proxy, "10.1.2.3, 192.0.2.9")).Should().Be(HttpStatusCode.Unauthorized, "the proxy's own peer (the rightmost entry) is the client");
        (await SendForwardedAsync(proxy, "not-an-address")).Should().Be(HttpStatusCode.Unauthorized);
        (await SendForwardedAsync(proxy, null)).Should().Be(HttpStatusCode.Unauthorized, "without the header the client is the proxy itself");
    }

    private static async Task<HttpStatusCode> SendForwardedAsync(HttpClient client, string? forwardedFor)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tags");
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static Corral.Access.TrustedNetwork Trusted(string text)
    {
        var problems = new List<string>();
        var network = Corral.Access.TrustedNetwork.Parse(text, "test", problems);
        problems.Should().BeEmpty();
        return network!;
    }
}
