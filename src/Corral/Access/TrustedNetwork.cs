using System.Net;
using System.Net.Sockets;

namespace Corral.Access;

/// <summary>
/// A network whose clients are served without a key, with <see cref="Role"/> (<c>--trusted-network CIDR=ROLE</c>,
/// or <c>"trustedNetworks"</c> in the configuration file): the <c>ollama</c> CLI and other clients that cannot send
/// a bearer key. Usage records name the caller <c>network:&lt;cidr&gt;</c>.
/// </summary>
internal sealed record TrustedNetwork(IPNetwork Network, KeyRole Role)
{
    /// <summary>The caller its clients are served as (one object: no allocation per request).</summary>
    public Caller Caller { get; } = new("network:" + Network, "network:" + Network, Role);

    /// <summary>Reads <c>10.0.0.0/8=user</c>; null with a problem (naming <paramref name="where"/>) otherwise.</summary>
    public static TrustedNetwork? Parse(string text, string where, List<string> problems)
    {
        var equals = text.LastIndexOf('=');
        var cidr = equals < 0 ? text : text[..equals];
        var role = equals < 0 ? null : text[(equals + 1)..].Trim();
        var network = ParseNetwork(cidr.Trim(), where, problems);
        if (role is not ("admin" or "user"))
        {
            problems.Add($"{where}: '{text}' must be CIDR=ROLE with ROLE admin or user, like 10.0.0.0/8=user");
            return null;
        }

        return network is { } n ? new TrustedNetwork(n, role == "admin" ? KeyRole.Admin : KeyRole.User) : null;
    }

    /// <summary>Reads a network like <c>10.0.0.0/8</c>, <c>192.168.1.7</c> (one address) or <c>fd00::/8</c>.</summary>
    public static IPNetwork? ParseNetwork(string text, string where, List<string> problems)
    {
        var slash = text.IndexOf('/');
        if (IPNetwork.TryParse(text, out var network)
            && slash > 0 && IPAddress.TryParse(text.AsSpan(0, slash), out var given) && given.Equals(network.BaseAddress))
        {
            // Only the network's first address: 10.0.0.1/8 would silently mean 10.0.0.0/8.
            return network;
        }

        if (IPAddress.TryParse(text, out var address))
        {
            return new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }

        problems.Add($"{where}: '{text}' is not a network like 10.0.0.0/8, 192.168.1.7 or fd00::/8 (the address must be the network's first)");
        return null;
    }
}

/// <summary>
/// Who the client is: the socket's peer, or, when the peer is a proxy of <c>--trusted-proxy</c>, the address that
/// proxy added to <c>X-Forwarded-For</c> (read from the right, past every trusted proxy). A header from anyone
/// else is ignored.
/// </summary>
internal static class ClientAddress
{
    public static IPAddress? Of(HttpContext context, IReadOnlyList<IPNetwork> proxies)
    {
        var peer = Normalize(context.Connection.RemoteIpAddress);
        if (peer is null || proxies.Count == 0 || !IsIn(peer, proxies))
        {
            return peer;
        }

        var forwarded = context.Request.Headers["X-Forwarded-For"];
        var client = peer;
        // Entries are appended by each proxy: the rightmost one not itself a trusted proxy is the client.
        for (var v = forwarded.Count - 1; v >= 0; v--)
        {
            var entries = (forwarded[v] ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            for (var i = entries.Length - 1; i >= 0; i--)
            {
                if (Normalize(ParseEntry(entries[i])) is not { } address)
                {
                    // Not an address: nothing further left can be trusted; the last proxy is the client.
                    return client;
                }

                client = address;
                if (!IsIn(address, proxies))
                {
                    return address;
                }
            }
        }

        return client;
    }

    public static bool IsIn(IPAddress address, IReadOnlyList<IPNetwork> networks)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static IPAddress? Normalize(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    // "203.0.113.7", "203.0.113.7:51234", "[2001:db8::1]:443" or "2001:db8::1".
    private static IPAddress? ParseEntry(string entry)
    {
        if (IPAddress.TryParse(entry, out var plain))
        {
            return plain;
        }

        return IPEndPoint.TryParse(entry, out var endpoint) ? endpoint.Address : null;
    }
}
