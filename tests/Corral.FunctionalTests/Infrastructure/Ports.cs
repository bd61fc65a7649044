using System.Net;
using System.Net.Sockets;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>Loopback ports for tests.</summary>
internal static class Ports
{
    /// <summary>A loopback port the system just handed out and took back: nothing listens there (a closed port), and a server may take it.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
