using System.Diagnostics;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>
/// A network namespace made for one test class: a veth pair from this machine (<see cref="HostAddress"/>, which is
/// the namespace's default gateway, as a container's host is) to the namespace (<see cref="Address"/>), its own
/// loopback, optionally its own hosts file (<c>/etc/netns/NAME/hosts</c>, which <c>ip netns exec</c> puts in place
/// of /etc/hosts), and its own firewall. Programs run inside it with <see cref="RunAsync"/>. Needs root and
/// iproute2; where a namespace cannot be made, <see cref="NetnsFactAttribute"/> reports the test as skipped.
/// </summary>
internal sealed class NetworkNamespace : IDisposable
{
    private static int s_count;

    private NetworkNamespace(string name, string hostAddress, string address)
    {
        Name = name;
        HostAddress = hostAddress;
        Address = address;
    }

    public string Name { get; }

    /// <summary>This machine's end of the veth pair: what a program inside reaches as its default gateway.</summary>
    public string HostAddress { get; }

    /// <summary>The namespace's own end of the veth pair.</summary>
    public string Address { get; }

    /// <summary>Why namespaces cannot be made here, or null when they can (probed once, by making one).</summary>
    public static string? Unavailable { get; } = Probe();

    public static NetworkNamespace Create(string? hosts = null)
    {
        var n = Interlocked.Increment(ref s_count);
        var id = $"{Environment.ProcessId % 10000}x{n}";
        // 10.231.0.0/16 split into /30s: one per namespace of this run, from the process id so that two runs differ.
        var subnet = ((Environment.ProcessId % 60) * 1000) + n;
        var (third, fourth) = (subnet / 64 % 256, subnet % 64 * 4);
        var space = new NetworkNamespace($"corral-{id}", $"10.231.{third}.{fourth + 1}", $"10.231.{third}.{fourth + 2}");
        var (outside, inside) = ($"cr{id}h", $"cr{id}n");
        try
        {
            if (hosts is not null)
            {
                Directory.CreateDirectory(space.EtcFolder);
                File.WriteAllText(Path.Combine(space.EtcFolder, "hosts"), hosts);
            }

            Ip("netns", "add", space.Name);
            Ip("link", "add", outside, "type", "veth", "peer", "name", inside);
            Ip("link", "set", inside, "netns", space.Name);
            Ip("addr", "add", space.HostAddress + "/30", "dev", outside);
            Ip("link", "set", outside, "up");
            space.InsideIp("addr", "add", space.Address + "/30", "dev", inside);
            space.InsideIp("link", "set", inside, "up");
            space.InsideIp("link", "set", "lo", "up");
            space.InsideIp("route", "add", "default", "via", space.HostAddress);
            return space;
        }
        catch
        {
            space.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="program"/> inside the namespace; its exit code and standard output.</summary>
    public async Task<(int ExitCode, string Output, string Error)> RunAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["netns", "exec", Name, program, .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ip netns exec");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await error);
    }

    /// <summary>Runs <c>corral</c> (the build next to the tests) inside the namespace.</summary>
    public Task<(int ExitCode, string Output, string Error)> CorralAsync(params string[] arguments) =>
        RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "corral.dll"), .. arguments]);

    /// <summary>Adds a rule to the namespace's own firewall (iptables, or nft through iptables-nft).</summary>
    public void Iptables(params string[] rule) => Run("ip", ["netns", "exec", Name, "iptables", .. rule]);

    public void Dispose()
    {
        // Deleting the namespace deletes its end of the veth pair, and with it this machine's end.
        RunQuietly("ip", "netns", "del", Name);
        if (Directory.Exists(EtcFolder))
        {
            Directory.Delete(EtcFolder, recursive: true);
        }
    }

    private string EtcFolder => Path.Combine("/etc/netns", Name);

    private void InsideIp(params string[] arguments) => Run("ip", ["netns", "exec", Name, "ip", .. arguments]);

    private static void Ip(params string[] arguments) => Run("ip", arguments);

    private static void Run(string program, string[] arguments)
    {
        var (code, error) = RunQuietly(program, arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({code}): {error}");
        }
    }

    private static (int Code, string Error) RunQuietly(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, error.Trim());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces are Linux's";
        }

        if (Environment.UserName != "root")
        {
            return "making network namespaces needs root (CI runs as root)";
        }

        var name = $"corral-probe-{Environment.ProcessId}";
        var (code, error) = RunQuietly("ip", "netns", "add", name);
        if (code != 0)
        {
            return $"this machine cannot make a network namespace (ip netns add: {error})";
        }

        RunQuietly("ip", "netns", "del", name);
        return null;
    }
}

/// <summary>A fact that needs network namespaces (and, when asked, iptables): reported as skipped, never passed, where there are none.</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute(bool iptables = false)
    {
        if (NetworkNamespace.Unavailable is { } why)
        {
            Skip = why;
        }
        else if (iptables && !File.Exists("/usr/sbin/iptables") && !File.Exists("/sbin/iptables"))
        {
            Skip = "iptables is not installed; install it with 'apt-get install iptables' (.ci/run does)";
        }
    }
}
