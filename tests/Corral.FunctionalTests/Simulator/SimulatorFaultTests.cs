using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

public sealed class SimulatorFaultTests
{
    [Fact]
    public async Task RefuseConnections_True_ConnectIsRefusedUntilTurnedOffOnTheSamePort()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        var address = simulator.BaseAddress;

        simulator.Faults.RefuseConnections = true;
        using (var client = new HttpClient { BaseAddress = address })
        {
            var act = () => client.GetAsync("/");
            var thrown = await act.Should().ThrowAsync<HttpRequestException>();
            thrown.Which.InnerException.Should().BeOfType<SocketException>()
                .Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
        }

        simulator.Faults.RefuseConnections = false;
        simulator.BaseAddress.Should().Be(address);
        using (var client = new HttpClient { BaseAddress = address })
        {
            (await client.GetStringAsync("/")).Should().Be("Ollama is running");
        }
    }

    [Fact]
    public async Task StopAsync_DuringAStream_CutsTheStreamAndRestartServesAgain()
    {
        await using var simulator = await SimulatorKit.StartAsync(o => o.TokensPerSecond = 5);
        using var client = SimulatorKit.Client(simulator);
        using var response = await SimulatorKit.PostAsync(client, "/api/generate", """{"model":"llama3.2","prompt":"hi"}""");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync()).Should().NotBeNull();

        await simulator.StopAsync();
        var readRest = async () =>
        {
            while (await reader.ReadLineAsync() is not null)
            {
            }
        };
        await readRest.Should().ThrowAsync<IOException>();
        simulator.Journal.Entries.Single().ClientAborted.Should().BeFalse();

        await simulator.RestartAsync();
        using var fresh = SimulatorKit.Client(simulator);
        (await fresh.GetStringAsync("/api/version")).Should().Be("""{"version":"0.12.6"}""");
    }

    [Fact]
    public async Task Hang_RequestIsReadButNeverAnswered_UntilTheClientGivesUp()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        simulator.Faults.Hang = true;
        using var client = SimulatorKit.Client(simulator);
        using var cancel = new CancellationTokenSource();

        var pending = SimulatorKit.PostAsync(client, "/api/chat", """{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}""", cancel.Token);
        var entry = await simulator.Journal.WaitForAsync(e => e.Path == "/api/chat", SimulatorKit.Deadline);
        entry.Model.Should().Be("llama3.2");

        (await Task.WhenAny(pending, Task.Delay(TimeSpan.FromMilliseconds(300)))).Should().NotBeSameAs(pending, "a hung server does not answer");
        entry.Completed.IsCompleted.Should().BeFalse();

        await cancel.CancelAsync();
        await pending.Invoking(p => p).Should().ThrowAsync<OperationCanceledException>();
        await entry.Aborted.WaitAsync(SimulatorKit.Deadline);
        await entry.Completed.WaitAsync(SimulatorKit.Deadline);
        entry.ClientAborted.Should().BeTrue();
    }

    [Fact]
    public async Task FirstByteDelay_DelaysApiRoutesButNotTheHealthRoutes()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);

        // A delay far longer than any stall of a busy machine: the health routes must answer while /api/tags waits.
        simulator.Faults.FirstByteDelay = TimeSpan.FromMinutes(10);
        using (var giveUp = new CancellationTokenSource())
        {
            var waiting = client.GetAsync("/api/tags", giveUp.Token);
            (await client.GetStringAsync("/")).Should().Be("Ollama is running");
            (await client.GetStringAsync("/api/version")).Should().Contain("version");
            waiting.IsCompleted.Should().BeFalse("the health routes answered while /api/tags was still delayed");
            await giveUp.CancelAsync();
            await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<OperationCanceledException>();
        }

        // A short delay is served in full, then the answer comes.
        simulator.Faults.FirstByteDelay = TimeSpan.FromMilliseconds(300);
        var clock = Stopwatch.StartNew();
        using var response = await client.GetAsync("/api/tags");
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250));
        ((int)response.StatusCode).Should().Be(200);
    }

    [Fact]
    public async Task ControlRoutes_SetAndResetFaults_AreReflectedInState()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using var client = SimulatorKit.Client(simulator);

        using var set = await SimulatorKit.PostAsync(client, "/_sim/faults", """{"hang":true,"dieAfterLines":3,"firstByteDelayMs":250}""");
        var state = await SimulatorKit.JsonAsync(set);
        state.GetProperty("faults").GetProperty("hang").GetBoolean().Should().BeTrue();
        simulator.Faults.DieAfterLines.Should().Be(3);
        simulator.Faults.FirstByteDelay.Should().Be(TimeSpan.FromMilliseconds(250));

        using var reset = await SimulatorKit.PostAsync(client, "/_sim/faults", """{"reset":true}""");
        simulator.Faults.Hang.Should().BeFalse();
        simulator.Faults.DieAfterLines.Should().Be(0);

        var current = JsonDocument.Parse(await client.GetStringAsync("/_sim/state")).RootElement;
        current.GetProperty("models").EnumerateArray().Select(m => m.GetString()).Should().Equal("llama3.2:latest");
        current.GetProperty("activeRequests").GetInt32().Should().Be(0);
        simulator.Journal.Entries.Should().BeEmpty("control routes are not journaled");
    }

    [Fact]
    public async Task ControlRoutes_RefuseConnectionsForAWhile_ListensAgainAfterwards()
    {
        await using var simulator = await SimulatorKit.StartAsync();
        using (var client = SimulatorKit.Client(simulator))
        {
            using var set = await SimulatorKit.PostAsync(client, "/_sim/faults", """{"refuseConnections":true,"refuseConnectionsForMs":300}""");
            ((int)set.StatusCode).Should().Be(200);
        }

        await Eventually.WaitUntilAsync(() => simulator.Faults.RefuseConnections, "the listener closed");
        await Eventually.WaitUntilAsync(() => !simulator.Faults.RefuseConnections, "the listener reopened");
        using var again = SimulatorKit.Client(simulator);
        (await again.GetStringAsync("/")).Should().Be("Ollama is running");
    }
}
