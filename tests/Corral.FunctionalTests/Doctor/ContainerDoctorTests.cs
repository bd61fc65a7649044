using System.Diagnostics;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;

namespace Corral.FunctionalTests.Doctor;

/// <summary>
/// <c>corral doctor --container</c> as a process, against stand-in docker and podman executables whose <c>exec</c>
/// runs on this machine: the checks "inside" the container reach a simulated Ollama over real sockets.
/// </summary>
public sealed class ContainerDoctorTests : IDisposable
{
    private readonly ContainerStandIns _standIns = new();

    public void Dispose() => _standIns.Dispose();

    private static JsonElement Check(JsonElement container, string name) => container.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    private static string Text(JsonElement element, string name) => element.GetProperty(name).GetString() ?? string.Empty;

    private static string[] Recreate(JsonElement container) => container.GetProperty("recreate").EnumerateArray().Select(c => c.GetString()!).ToArray();

    // The words a POSIX shell makes of a command line: what the printed command would run with.
    private static async Task<string[]> ShellWordsAsync(string command)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"set -- {command}; printf '%s\\0' \"$@\"");
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Docker_HostNameDoesNotResolve_OllamaAtTheGatewayIsFound_RecreateAddsTheHostAndKeepsTheRest()
    {
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.Listen = "http://127.0.0.2:0");
        var port = sim.BaseAddress.Port;
        _standIns.With("docker").ContainerGateway("127.0.0.2")
            .Container("docker", "open-webui", [$"OLLAMA_BASE_URL=http://host.docker.internal:{port}", "WEBUI_SECRET_KEY=it's a secret"]);

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(2);
        Text(container, "tool").Should().Be("docker");
        Text(Check(container, "dns"), "finding").Should().Be("inside open-webui, host.docker.internal does not resolve");
        Text(Check(container, "dns"), "fix").Should().Contain("--add-host host.docker.internal:host-gateway");
        Text(Check(container, "answer"), "status").Should().Be("ok");
        Text(Check(container, "answer"), "finding").Should().Contain($"http://127.0.0.2:{port} (open-webui's default gateway) answers \"Ollama is running\"");
        Text(container, "recommendation").Should().Be($"http://host.docker.internal:{port}");
        var recreate = Recreate(container);
        recreate.Should().HaveCount(2);
        recreate[0].Should().Be("docker rm -f open-webui");
        var words = await ShellWordsAsync(recreate[1]);
        words.Should().Equal(
            "docker", "run", "-d", "--name", "open-webui", "--restart", "always", "--add-host", "host.docker.internal:host-gateway", "-p", "3000:8080",
            "-v", "open-webui:/app/backend/data", "-e", $"OLLAMA_BASE_URL=http://host.docker.internal:{port}", "-e", "WEBUI_SECRET_KEY=it's a secret",
            "ghcr.io/open-webui/open-webui:main");
    }

    [Fact]
    public async Task Podman_WslGatewayFromMachineSsh_IsInTheFinding_AndIsTheUrlRecommended()
    {
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.Listen = "http://127.0.0.2:0");
        var port = sim.BaseAddress.Port;
        _standIns.With("podman").Machine(running: true, route: "default via 127.0.0.2 dev eth0 proto kernel")
            .Container("podman", "open-webui", [$"OLLAMA_BASE_URL=http://host.containers.internal:{port}"]);

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(2);
        Text(Check(container, "machine"), "status").Should().Be("ok");
        Text(Check(container, "route"), "finding").Should().StartWith("127.0.0.2 is the WSL2 gateway, Windows as the Podman machine sees it");
        Text(Check(container, "answer"), "finding").Should().Contain($"http://127.0.0.2:{port} (the WSL2 gateway) answers");
        Text(container, "recommendation").Should().Be($"http://127.0.0.2:{port}");
        var recreate = Recreate(container);
        recreate[0].Should().Be("podman rm -f open-webui");
        recreate[1].Should().StartWith("podman run -d --name open-webui ").And.Contain($"-e OLLAMA_BASE_URL=http://127.0.0.2:{port}").And.NotContain("--add-host");
    }

    [Fact]
    public async Task Podman_StoppedMachine_Fails_WithPodmanMachineStart()
    {
        _standIns.With("podman").Machine(running: false).Container("podman", "open-webui", ["OLLAMA_BASE_URL=http://host.containers.internal:11434"]);

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(2);
        Text(Check(container, "machine"), "status").Should().Be("fail");
        Text(Check(container, "machine"), "finding").Should().Be("the Podman machine podman-machine-default is stopped: Podman's containers run inside it");
        Text(Check(container, "machine"), "fix").Should().Be("podman machine start podman-machine-default");
        Text(Check(container, "found"), "finding").Should().Contain("the Podman machine podman-machine-default is stopped");
    }

    [Fact]
    public async Task ClosedPort_FromInside_IsRefused_WithTheOllamaHostFix()
    {
        var closed = Ports.Free();
        _standIns.With("docker").Container("docker", "open-webui", [$"OLLAMA_BASE_URL=http://127.0.0.1:{closed}"], network: "host");

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(2);
        Text(Check(container, "url"), "status").Should().Be("ok");
        Text(Check(container, "tcp"), "status").Should().Be("fail");
        Text(Check(container, "tcp"), "finding").Should().StartWith($"inside open-webui, 127.0.0.1:{closed} refused the connection");
        Text(Check(container, "tcp"), "fix").Should().Contain("OLLAMA_HOST=0.0.0.0");
        Text(Check(container, "http"), "status").Should().Be("skip");
        Text(Check(container, "answer"), "status").Should().Be("fail");
        Text(Check(container, "answer"), "finding").Should().Contain($"http://127.0.0.3:{closed} (refused)");
        Recreate(container).Should().BeEmpty();
    }

    [Fact]
    public async Task ConfiguredUrlAnswers_AllOk_NothingToRecreate()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        var url = sim.BaseAddress.ToString().TrimEnd('/');
        _standIns.With("docker").Container("docker", "open-webui", [$"OLLAMA_BASE_URLS={url}"], network: "host");

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(0);
        Text(container, "status").Should().Be("ok");
        container.GetProperty("urls")[0].GetProperty("source").GetString().Should().Be("OLLAMA_BASE_URLS");
        Text(Check(container, "http"), "finding").Should().Be($"inside open-webui, Ollama 0.12.6 is running at {url} (with curl)");
        Text(container, "recommendation").Should().Be(url);
        Recreate(container).Should().BeEmpty();
    }

    [Fact]
    public async Task Perplexica_MountedConfigToml_ApiUrlIsRead_AndThePrintedEditSetsTheUrlThatAnswers()
    {
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.Listen = "http://127.0.0.2:0");
        var port = sim.BaseAddress.Port;
        var config = Path.Combine(_standIns.Folder, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            [GENERAL]
            SIMILARITY_MEASURE = "cosine"
            KEEP_ALIVE = "5m"

            [MODELS.OPENAI]
            API_KEY = ""

            [MODELS.CUSTOM_OPENAI]
            API_KEY = ""
            API_URL = ""
            MODEL_NAME = ""

            [MODELS.OLLAMA]
            API_URL = "http://localhost:{port}" # Ollama API URL - http://host.docker.internal:11434

            [API_ENDPOINTS]
            SEARXNG = "http://searxng:8080"

            """);
        _standIns.With("podman").ContainerGateway("127.0.0.2").Container("podman", "perplexica", [], mounts:
            [new { Type = "bind", Source = config, Destination = "/home/perplexica/config.toml", Driver = "", Mode = "", RW = true, Propagation = "rprivate" }]);

        var (exitCode, container) = await _standIns.ContainerAsync("perplexica");

        exitCode.Should().Be(2);
        container.GetProperty("urls")[0].GetProperty("url").GetString().Should().Be($"http://localhost:{port}");
        container.GetProperty("urls")[0].GetProperty("source").GetString().Should().Be($"API_URL in {config}");
        Text(Check(container, "url"), "status").Should().Be("warn");
        Text(Check(container, "url"), "finding").Should().Contain("localhost inside perplexica is the container itself");
        Text(container, "recommendation").Should().Be($"http://127.0.0.2:{port}");
        var recreate = Recreate(container);
        recreate.Should().HaveCount(2);
        recreate[1].Should().Be("podman restart perplexica");

        using var edit = Process.Start("bash", ["-c", recreate[0]]);
        await edit.WaitForExitAsync();
        var edited = await File.ReadAllTextAsync(config);
        edited.Should().Contain($"[MODELS.OLLAMA]\nAPI_URL = \"http://127.0.0.2:{port}\"\n").And.Contain("[MODELS.CUSTOM_OPENAI]\nAPI_KEY = \"\"\nAPI_URL = \"\"\n");
        (await File.ReadAllTextAsync(config + ".bak")).Should().Contain($"API_URL = \"http://localhost:{port}\"", "the old file stays beside it");
    }

    [Fact]
    public async Task NoSuchContainer_SaysWhichToolsWereAsked()
    {
        _standIns.With("docker").With("podman");

        var (exitCode, container) = await _standIns.ContainerAsync("ghost");

        exitCode.Should().Be(2);
        Text(Check(container, "found"), "finding").Should().Be("there is no container named ghost: asked docker and podman");
        container.GetProperty("tool").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public async Task BothToolsInstalled_TheOneThatKnowsTheContainerIsUsed()
    {
        await using var sim = await Sim.StartAsync("llama3.2");
        _standIns.With("docker").With("podman").Container("podman", "open-webui", [$"OLLAMA_BASE_URL={sim.BaseAddress.ToString().TrimEnd('/')}"], network: "host");

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(0);
        Text(container, "tool").Should().Be("podman");
        Text(Check(container, "found"), "finding").Should().EndWith("is running; looked at with podman");
    }

    [Fact]
    public async Task StoppedContainer_Fails_WithDockerStart()
    {
        _standIns.With("docker").Container("docker", "open-webui", ["OLLAMA_BASE_URL=http://host.docker.internal:11434"], status: "exited");

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(2);
        Text(Check(container, "found"), "finding").Should().Be("open-webui is exited, not running, so nothing can be checked from inside it");
        Text(Check(container, "found"), "fix").Should().Be("docker start open-webui");
    }

    [Fact]
    public async Task NeitherToolOnPath_SaysSo()
    {
        var (exitCode, output, error) = await _standIns.DoctorAsync(["--container", "open-webui"], path: Directory.CreateDirectory(Path.Combine(_standIns.Folder, "empty")).FullName);

        exitCode.Should().Be(2);
        error.Should().BeEmpty();
        output.Should().Contain("container open-webui: fail").And.Contain("fail found  neither docker nor podman is on PATH");
    }

    [Fact]
    public async Task ContainerWithoutConnectionTools_SaysSoPlainly_AndWarns()
    {
        _standIns.With("docker").BareContainer().Container("docker", "open-webui", ["OLLAMA_BASE_URL=http://127.0.0.1:11434"], network: "host");

        var (exitCode, container) = await _standIns.ContainerAsync("open-webui");

        exitCode.Should().Be(1);
        Text(Check(container, "tcp"), "status").Should().Be("warn");
        Text(Check(container, "tcp"), "finding").Should().Be("open-webui has none of bash, python3, python, curl or wget, so no connection can be tried from inside it");
        Text(Check(container, "tcp"), "fix").Should().Contain("--network container:open-webui");
        Text(Check(container, "answer"), "status").Should().Be("skip");
    }

    [Fact]
    public async Task HumanReport_LaysTheContainerOutAsTheUrls_WithTheCommandsToRun_AndHelpNamesTheOption()
    {
        await using var sim = await Sim.StartAsync(["llama3.2"], o => o.Listen = "http://127.0.0.2:0");
        var port = sim.BaseAddress.Port;
        _standIns.With("docker").ContainerGateway("127.0.0.2").Container("docker", "open-webui", [$"OLLAMA_BASE_URL=http://localhost:{port}"]);

        var (exitCode, output, _) = await _standIns.DoctorAsync(["--container", "open-webui", "--timeout", "2"]);
        var (_, help, _) = await _standIns.DoctorAsync(["--help"]);

        exitCode.Should().Be(2);
        output.Should().Contain("container open-webui (docker): fail\n")
            .And.Contain($"  warn url    http://localhost:{port} (from OLLAMA_BASE_URL): localhost inside open-webui is the container itself")
            .And.Contain($"To give open-webui http://host.docker.internal:{port}, run:\n  docker rm -f open-webui\n  docker run -d --name open-webui");
        help.Should().Contain("--container <NAME>");
    }
}
