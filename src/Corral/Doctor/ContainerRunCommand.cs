using System.Text.RegularExpressions;

namespace Corral.Doctor;

/// <summary>
/// The commands that recreate a container as its inspect answer describes it, with another environment: name,
/// restart policy, network, extra hosts, published ports, mounts, environment, image and command.
/// </summary>
internal static partial class ContainerRunCommand
{
    /// <summary>The name --add-host gives the host with Docker on Linux, which has no such name by itself.</summary>
    public const string HostGateway = "host.docker.internal:host-gateway";

    /// <summary>
    /// <c>TOOL rm -f NAME</c>, then <c>TOOL run -d …</c> with <paramref name="env"/> (the variables to set, the image's
    /// own left out), <c>--add-host host.docker.internal:host-gateway</c> when <paramref name="addHost"/>, and
    /// <paramref name="command"/> after the image when it is not the image's.
    /// </summary>
    public static IReadOnlyList<string> Recreate(string tool, ContainerInspection container, IReadOnlyList<string> env, bool addHost, IReadOnlyList<string> command)
    {
        var run = new List<string> { tool, "run", "-d", "--name", container.Name };
        if (container.Restart is { } restart)
        {
            run.AddRange(["--restart", restart]);
        }

        // The engines' default networks need no flag (Podman's rootless default is pasta or slirp4netns).
        if (container.Network is not ("default" or "bridge" or "pasta" or "slirp4netns" or ""))
        {
            run.AddRange(["--network", container.Network]);
        }

        foreach (var host in container.ExtraHosts)
        {
            run.AddRange(["--add-host", host]);
        }

        if (addHost && !container.ExtraHosts.Any(h => h.StartsWith("host.docker.internal:", StringComparison.Ordinal)))
        {
            run.AddRange(["--add-host", HostGateway]);
        }

        foreach (var port in container.Ports)
        {
            run.AddRange(["-p", port]);
        }

        foreach (var mount in container.Mounts)
        {
            var options = mount.ReadWrite ? string.Empty : ":ro";
            if (mount.Type == "tmpfs")
            {
                run.AddRange(["--tmpfs", mount.Destination]);
            }
            else
            {
                run.AddRange(["-v", $"{(mount.Type == "volume" && mount.Name is { Length: > 0 } volume ? volume : mount.Source)}:{mount.Destination}{options}"]);
            }
        }

        foreach (var variable in env)
        {
            run.AddRange(["-e", variable]);
        }

        run.Add(container.Image);
        run.AddRange(command);
        return [$"{tool} rm -f {Quote(container.Name)}", string.Join(' ', run.Select(Quote))];
    }

    /// <summary>
    /// <paramref name="word"/> as one word for a POSIX shell: as it is when nothing in it is special, else in single
    /// quotes (a single quote inside written <c>'\''</c>).
    /// </summary>
    public static string Quote(string word) =>
        word.Length > 0 && Plain().IsMatch(word) ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex("^[A-Za-z0-9_@%+=:,./-]+$")]
    private static partial Regex Plain();
}
