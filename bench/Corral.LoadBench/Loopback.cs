using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace Corral.LoadBench;

/// <summary>Loopback ports and the measuring HTTP client.</summary>
internal static class Loopback
{
    /// <summary>A port free right now on 127.0.0.1 (the OS picks it; the caller binds it soon after).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>A client like Corral's own upstream client: no proxy, no decompression, no connection limit.</summary>
    public static HttpClient Client(string? bearer = null)
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    /// <summary>Polls <paramref name="url"/> until it answers 2xx, the process dies, or the deadline passes.</summary>
    public static async Task WaitUntilServingAsync(string url, ChildProcess? process, TimeSpan deadline, string? bearer = null)
    {
        using var client = Client(bearer);
        var started = Stopwatch.StartNew();
        while (true)
        {
            if (process is { HasExited: true })
            {
                throw new BenchmarkException($"{process.Name} exited before serving {url}:\n{process.Output}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(url));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (started.Elapsed > deadline)
            {
                throw new BenchmarkException($"{url} did not answer within {deadline.TotalSeconds:0} s{(process is null ? string.Empty : ":\n" + process.Output)}");
            }

            await Task.Delay(50);
        }
    }
}
