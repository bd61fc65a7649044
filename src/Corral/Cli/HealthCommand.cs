using System.CommandLine;
using System.Net;
using Corral.Hosting;

namespace Corral.Cli;

/// <summary>
/// <c>corral health</c>: whether the Corral of this machine (or container) answers <c>GET /healthz</c>; the Docker
/// image's health check, since the ASP.NET runtime image has no curl or wget.
/// </summary>
internal static class HealthCommand
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);

    public static Command Create()
    {
        var url = new Option<string>("--url")
        {
            HelpName = "URL",
            Description = $"The Corral to ask. Default: the address `corral serve` listens on (--listen, env CORRAL_LISTEN, default {CorralSettings.DefaultListen}), 0.0.0.0 asked on 127.0.0.1.",
        };
        var command = new Command("health", "Ask a Corral's GET /healthz (3 s at most). Exit code 0: it answered 200; 1: it did not. One line on standard error says which.")
        {
            url,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (healthy, line) = await CheckAsync(parse.GetValue(url) ?? SettingsResolver.Listen(null, Environment.GetEnvironmentVariable), cancellationToken);
            await Console.Error.WriteLineAsync(line);
            return healthy ? 0 : 1;
        });
        return command;
    }

    /// <summary>Asks <c>/healthz</c> of <paramref name="address"/>: whether it answered 200, and one sentence saying what happened.</summary>
    public static async Task<(bool Healthy, string Line)> CheckAsync(string address, CancellationToken cancellationToken)
    {
        if (ProbeUri(address) is not { } probe)
        {
            return (false, $"unhealthy: '{address}' is not an http URL like {CorralSettings.DefaultListen}");
        }

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = s_timeout };
        try
        {
            using var response = await client.GetAsync(probe, cancellationToken);
            return response.StatusCode == HttpStatusCode.OK
                ? (true, $"healthy: {probe} answered 200")
                : (false, $"unhealthy: {probe} answered {(int)response.StatusCode}");
        }
        catch (HttpRequestException e)
        {
            return (false, $"unhealthy: {probe}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"unhealthy: {probe} did not answer within {s_timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// The /healthz URL of a listen address: the first of several (';'), and an address that means every interface
    /// (0.0.0.0, [::], * and + as Kestrel takes them) asked on loopback, where it also listens.
    /// </summary>
    internal static Uri? ProbeUri(string address)
    {
        var first = address.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? string.Empty;
        first = first.Replace("://*", "://127.0.0.1", StringComparison.Ordinal).Replace("://+", "://127.0.0.1", StringComparison.Ordinal);
        if (!Uri.TryCreate(first, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        var builder = new UriBuilder(uri) { Path = "/healthz", Query = string.Empty };
        if (IPAddress.TryParse(uri.Host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
        {
            builder.Host = ip.Equals(IPAddress.Any) ? "127.0.0.1" : "[::1]";
        }

        return builder.Uri;
    }
}
