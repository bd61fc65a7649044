using System.Globalization;
using System.Net;

namespace Corral.Doctor;

/// <summary>
/// Where Corral runs, as far as it changes what "localhost" means: in a Docker or Podman container, under WSL, in
/// Kubernetes, sharing the host's network (<c>network_mode: host</c>, where localhost is the host's after all); and the
/// default gateway (from <c>/proc/net/route</c>), which is the host as a container sees it.
/// </summary>
internal sealed record DoctorEnvironment(bool Docker, bool Podman, bool Wsl, bool Kubernetes, string? DefaultGateway, bool HostNetwork = false)
{
    // Bridges only a host's own network has: a container that sees one shares the host's network.
    private static readonly string[] s_hostBridges = ["docker0", "podman0", "cni-podman0"];

    /// <summary>The names containers give the host, resolved from here.</summary>
    public static readonly string[] HostNameCandidates = ["host.docker.internal", "host.containers.internal", "gateway.docker.internal"];

    public bool InContainer => Docker || Podman || Kubernetes;

    /// <summary>What each of <see cref="HostNameCandidates"/> resolves to here (empty: it does not); null when not looked up.</summary>
    public IReadOnlyDictionary<string, string[]>? HostNames { get; init; }

    /// <summary>This environment with <see cref="HostNameCandidates"/> resolved, each lookup bounded by <paramref name="timeout"/>.</summary>
    public async Task<DoctorEnvironment> WithHostNamesAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(HostNameCandidates.Select(async name =>
        {
            try
            {
                return (name, (await OllamaDoctor.ResolveAsync(name, timeout, cancellationToken)).Select(a => a.ToString()).ToArray());
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or TimeoutException)
            {
                return (name, Array.Empty<string>());
            }
        }));
        return this with { HostNames = answers.ToDictionary(a => a.name, a => a.Item2) };
    }

    /// <summary>Reads the environment of this process (<paramref name="root"/> stands for <c>/</c> in tests).</summary>
    public static DoctorEnvironment Detect(string root = "/", Func<string, string?>? variable = null)
    {
        variable ??= Environment.GetEnvironmentVariable;
        string? Read(string path)
        {
            try
            {
                var full = Path.Combine(root, path.TrimStart('/'));
                return File.Exists(full) ? File.ReadAllText(full) : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        var docker = File.Exists(Path.Combine(root, ".dockerenv"));
        var podman = File.Exists(Path.Combine(root, "run/.containerenv"));
        return new DoctorEnvironment(
            Docker: docker,
            Podman: podman,
            Wsl: Read("/proc/version")?.Contains("microsoft", StringComparison.OrdinalIgnoreCase) == true,
            Kubernetes: !string.IsNullOrEmpty(variable("KUBERNETES_SERVICE_HOST")),
            DefaultGateway: Gateway(Read("/proc/net/route")),
            HostNetwork: (docker || podman) && s_hostBridges.Any(b => Directory.Exists(Path.Combine(root, "sys/class/net", b))));
    }

    /// <summary>The gateway of the default route in <c>/proc/net/route</c> (destination 00000000), as an address.</summary>
    internal static string? Gateway(string? routes)
    {
        foreach (var line in (routes ?? string.Empty).Split('\n').Skip(1))
        {
            var fields = line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (fields.Length > 2 && fields[1] == "00000000"
                && uint.TryParse(fields[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var gateway) && gateway != 0)
            {
                // The kernel writes it in host byte order: little-endian here.
                return new IPAddress(BitConverter.GetBytes(gateway)).ToString();
            }
        }

        return null;
    }
}
