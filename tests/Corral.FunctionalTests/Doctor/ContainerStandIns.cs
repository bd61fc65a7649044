using System.Diagnostics;
using System.Text.Json;

namespace Corral.FunctionalTests.Doctor;

/// <summary>
/// A folder of stand-in <c>docker</c> and <c>podman</c> executables, put first on PATH for a real <c>corral doctor</c>
/// process. They print what the real tools print (inspect JSON, <c>machine list --format json</c>, an
/// <c>ip route</c> line) from files written here, and run <c>exec NAME cmd…</c> as <c>cmd…</c> on this machine, so
/// the network checks from "inside" the container are real. The folder also holds the <c>ip</c> that the
/// container's <c>ip route show default</c> finds. The rest of PATH is the system's folders only: this machine's
/// real Docker CLI, in /usr/local/bin, is never reached.
/// </summary>
internal sealed class ContainerStandIns : IDisposable
{
    private const string Tool = """
        #!/usr/bin/env bash
        # A stand-in for docker or podman: answers from files beside it.
        here=$(dirname "$0"); tool=$(basename "$0")
        [ "$1" = container ] && shift
        case "$1" in
          inspect)
            if [ -f "$here/$tool.inspect-error" ]; then cat "$here/$tool.inspect-error" >&2; exit 125; fi
            if [ -f "$here/$tool.inspect.$2.json" ]; then cat "$here/$tool.inspect.$2.json"; exit 0; fi
            echo "[]"
            if [ "$tool" = docker ]; then echo "Error: No such container: $2" >&2; exit 1; fi
            echo "Error: no such container $2" >&2; exit 125 ;;
          image)
            if [ -f "$here/$tool.image.json" ]; then cat "$here/$tool.image.json"; exit 0; fi
            echo "[]"; echo "Error: No such image: $3" >&2; exit 1 ;;
          exec)
            shift 2
            if [ -d "$here/container-path" ]; then PATH="$here/container-path" exec "$@"; fi
            exec "$@" ;;
          machine)
            case "$2" in
              list) if [ -f "$here/$tool.machines.json" ]; then cat "$here/$tool.machines.json"; else echo "[]"; fi ;;
              ssh) cat "$here/$tool.machine-route" ;;
            esac ;;
          *) echo "stand-in $tool: unexpected $*" >&2; exit 2 ;;
        esac
        """;

    private const string Ip = """
        #!/bin/sh
        cat "$(dirname "$0")/container-route"
        """;

    // The image's own environment and command, which every container of it has too.
    private static readonly string[] s_imageEnv = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"];
    private static readonly string[] s_imageCommand = ["bash", "start.sh"];

    public ContainerStandIns()
    {
        Folder = Path.Combine(Path.GetTempPath(), "corral-standins-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        Write("ip", Ip, executable: true);
        ContainerGateway("127.0.0.3");
    }

    public string Folder { get; }

    /// <summary>Adds a stand-in <paramref name="tool"/> (docker or podman).</summary>
    public ContainerStandIns With(string tool)
    {
        Write(tool, Tool, executable: true);
        return this;
    }

    /// <summary>What <c>TOOL container inspect NAME</c> prints: a docker inspect array of one container.</summary>
    public ContainerStandIns Container(string tool, string name, string[] env, string network = "bridge", string status = "running", object[]? mounts = null)
    {
        var container = new
        {
            Id = "4c0f9b5ab2d1e6f3a1c7e8d9b0a1f2e3d4c5b6a7988796a5b4c3d2e1f0a9b8c7",
            Created = "2025-05-04T09:12:44.123871200Z",
            Path = "bash",
            Args = new[] { "start.sh" },
            State = new { Status = status, Running = status == "running", Paused = false, Restarting = false, OOMKilled = false, Dead = false, Pid = status == "running" ? 4242 : 0, ExitCode = 0 },
            Image = "sha256:9d5c6bd8a1e2f3",
            Name = tool == "docker" ? "/" + name : name,
            RestartCount = 0,
            HostConfig = new
            {
                Binds = (string[]?)null,
                NetworkMode = network,
                PortBindings = new Dictionary<string, object[]> { ["8080/tcp"] = [new { HostIp = "", HostPort = "3000" }] },
                RestartPolicy = new { Name = "always", MaximumRetryCount = 0 },
                ExtraHosts = (string[]?)null,
            },
            Mounts = mounts ?? [new { Type = "volume", Name = "open-webui", Source = "/var/lib/docker/volumes/open-webui/_data", Destination = "/app/backend/data", Driver = "local", Mode = "z", RW = true, Propagation = "" }],
            Config = new
            {
                Hostname = "4c0f9b5ab2d1",
                Env = env.Concat(s_imageEnv).ToArray(),
                Cmd = s_imageCommand,
                Image = "ghcr.io/open-webui/open-webui:main",
                WorkingDir = "/app/backend",
                Entrypoint = (string[]?)null,
            },
            NetworkSettings = new { Networks = new Dictionary<string, object> { [network] = new { Gateway = "172.17.0.1", IPAddress = "172.17.0.2" } } },
        };
        Write($"{tool}.inspect.{name}.json", JsonSerializer.Serialize(new[] { container }));
        Write($"{tool}.image.json", JsonSerializer.Serialize(new[] { new { Config = new { Env = s_imageEnv, Cmd = s_imageCommand } } }));
        return this;
    }

    /// <summary>What <c>podman machine list --format json</c> prints: one machine, the default.</summary>
    public ContainerStandIns Machine(bool running, string route = "default via 172.29.160.1 dev eth0 proto kernel")
    {
        var machine = new
        {
            Name = "podman-machine-default",
            Default = true,
            Created = "2025-05-02T10:15:04.2836546+02:00",
            Running = running,
            Starting = false,
            LastUp = "2025-05-06T09:12:44.1238712+02:00",
            Stream = "default",
            VMType = "wsl",
            CPUs = 8,
            Memory = "2147483648",
            DiskSize = "107374182400",
            Port = 0,
            RemoteUsername = "user",
            IdentityPath = "C:\\Users\\user\\.local\\share\\containers\\podman\\machine\\machine",
            UserModeNetworking = false,
        };
        Write("podman.machines.json", JsonSerializer.Serialize(new[] { machine }));
        Write("podman.machine-route", route + "\n");
        if (!running)
        {
            Write("podman.inspect-error", "Cannot connect to Podman. Please verify your connection to the Linux system using `podman system connection list`, or try `podman machine init` and `podman machine start` to manage a new Linux VM\n"
                + "Error: unable to connect to Podman socket: failed to connect: dial tcp 127.0.0.1:51234: connect: connection refused\n");
        }

        return this;
    }

    /// <summary>The gateway the container's <c>ip route show default</c> names.</summary>
    public ContainerStandIns ContainerGateway(string address)
    {
        Write("container-route", $"default via {address} dev eth0 \n");
        return this;
    }

    /// <summary>Leaves the container nothing but sh: no getent, bash, python, curl or wget.</summary>
    public ContainerStandIns BareContainer()
    {
        var path = Directory.CreateDirectory(Path.Combine(Folder, "container-path")).FullName;
        File.CreateSymbolicLink(Path.Combine(path, "sh"), "/bin/sh");
        return this;
    }

    /// <summary>Runs <c>corral doctor ARGS</c> with the stand-ins first on PATH (or PATH as given); exit code, stdout, stderr.</summary>
    public async Task<(int ExitCode, string Output, string Error)> DoctorAsync(string[] arguments, string? path = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "corral.dll"));
        info.ArgumentList.Add("doctor");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["PATH"] = path ?? $"{Folder}:/usr/sbin:/usr/bin:/sbin:/bin";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start corral");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await error);
    }

    /// <summary><c>corral doctor --container NAME --json</c>: its exit code and the report's <c>container</c> object.</summary>
    public async Task<(int ExitCode, JsonElement Container)> ContainerAsync(string name)
    {
        var (exitCode, output, error) = await DoctorAsync(["--container", name, "--json", "--timeout", "2"]);
        error.Should().BeEmpty();
        using var document = JsonDocument.Parse(output);
        return (exitCode, document.RootElement.GetProperty("container").Clone());
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);

    private void Write(string name, string text, bool executable = false)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        if (executable && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }
    }
}
