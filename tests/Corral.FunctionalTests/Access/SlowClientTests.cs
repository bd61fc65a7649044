using System.Net;
using System.Net.Sockets;
using System.Text;
using Corral.FunctionalTests.Infrastructure;
using Corral.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.FunctionalTests.Access;

/// <summary>Clients that are slow on purpose or by accident: they must not hold a backend slot, nor Corral.</summary>
public sealed class SlowClientTests
{
    private static string Stream(int tokens) => $$$"""{"model":"llama3.2","prompt":"hi","options":{"num_predict":{{{tokens}}}}}""";

    [Fact]
    public async Task ClientThatStopsReading_LosesItsAnswerAfterTheStallTimeout_AndTheModelsOnlySlotIsFreed()
    {
        // No pace: the backend writes as fast as the relay takes it, so the client's buffers fill at once.
        await using var a = await Sim.StartAsync(["llama3.2"], o => (o.TokensPerSecond, o.Parallel) = (0, 1));
        var usage = new RecordedUsage();
        await using var corral = await CorralInstance.StartAsync(
            [CorralInstance.Backend(a, "a") with { MaxConcurrency = 1 }],
            s => s with { ClientStallTimeout = TimeSpan.FromSeconds(1) },
            services: s => s.AddSingleton<IUsageObserver>(usage));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(corral.BaseAddress.Host, corral.BaseAddress.Port);
        var body = Stream(5_000_000);
        var head = $"POST /api/generate HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {CorralInstance.AdminKey}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n";
        await socket.SendAsync(Encoding.UTF8.GetBytes(head + body));
        await Eventually.WaitUntilAsync(() => a.ActiveRequests == 1, "the stream runs");

        // The client reads nothing from now on.
        await Eventually.WaitUntilAsync(() => a.ActiveRequests == 0, "the stalled answer's backend request was cancelled");

        using var client = corral.Client();
        using var next = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"hi","stream":false,"options":{"num_predict":3}}""");
        next.StatusCode.Should().Be(HttpStatusCode.OK, "the slot is free for the next request");
        var stalled = (await usage.WaitForAsync("/api/generate", 2)).First(r => r.Error is not null);
        stalled.Error.Should().Contain("--client-stall-timeout");
        stalled.Cancelled.Should().BeTrue();
    }

    [Fact]
    public async Task SlowReader_StillTakingBytes_KeepsItsStream()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 40);
        await using var corral = await CorralInstance.StartAsync([CorralInstance.Backend(a, "a")], s => s with { ClientStallTimeout = TimeSpan.FromSeconds(1) });
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/generate", Stream(80), HttpCompletionOption.ResponseHeadersRead);
        var lines = await response.NdjsonAsync();

        lines.Should().HaveCountGreaterThan(80, "a stream that takes two seconds, read as it comes, is not a stall");
        lines[^1].GetProperty("done").GetBoolean().Should().BeTrue();
    }
}
