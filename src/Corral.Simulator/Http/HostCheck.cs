using System.Net;
using System.Net.Sockets;

namespace Corral.Simulator.Http;

/// <summary>Ollama's allowedHostsMiddleware for a server bound to loopback (DNS-rebinding protection).</summary>
internal static class HostCheck
{
    public static bool IsAllowed(string hostHeader)
    {
        var host = hostHeader.ToLowerInvariant();
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            host = close > 0 ? host[1..close] : host;
        }
        else if (host.Count(c => c == ':') == 1)
        {
            host = host[..host.IndexOf(':', StringComparison.Ordinal)];
        }

        if (IPAddress.TryParse(host, out var address))
        {
            return IPAddress.IsLoopback(address) || IsPrivate(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
        }

        if (host.Length == 0 || host == "localhost" || string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return host.EndsWith(".localhost", StringComparison.Ordinal)
            || host.EndsWith(".local", StringComparison.Ordinal)
            || host.EndsWith(".internal", StringComparison.Ordinal);
    }

    private static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168);
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 && (address.GetAddressBytes()[0] & 0xFE) == 0xFC;
    }
}
