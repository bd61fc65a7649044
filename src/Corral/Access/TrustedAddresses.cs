using System.Net;
using Corral.Hosting;

namespace Corral.Access;

/// <summary>
/// The trusted networks and proxies in force: those of the command line, and those of the configuration file as
/// it was last read, so that an edit of the file's <c>"trustedNetworks"</c> or <c>"trustedProxies"</c> applies
/// without a restart, like its backends and presets (a file with problems changes nothing). Swapped whole, so a
/// request sees one version of both lists.
/// </summary>
internal sealed class TrustedAddresses(CorralSettings settings)
{
    private volatile Lists _current = new(settings.TrustedNetworks, settings.TrustedProxies);

    /// <summary>Networks whose clients are served without a key, with a role.</summary>
    public IReadOnlyList<TrustedNetwork> Networks => _current.Networks;

    /// <summary>Proxies whose <c>X-Forwarded-For</c> names the client.</summary>
    public IReadOnlyList<IPNetwork> Proxies => _current.Proxies;

    /// <summary>The configuration file was read again: its lists replace those it had, the command line's stay.</summary>
    public void SetConfigured(IReadOnlyList<TrustedNetwork> networks, IReadOnlyList<IPNetwork> proxies) =>
        _current = new([.. settings.FixedTrustedNetworks, .. networks], [.. settings.FixedTrustedProxies, .. proxies]);

    private sealed record Lists(IReadOnlyList<TrustedNetwork> Networks, IReadOnlyList<IPNetwork> Proxies);
}
