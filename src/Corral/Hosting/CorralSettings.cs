using Corral.Fleet;

namespace Corral.Hosting;

/// <summary>Everything <c>corral serve</c> runs with, resolved from the command line, environment and config file.</summary>
internal sealed record CorralSettings
{
    public const string DefaultListen = "http://127.0.0.1:11480";
    public const string DefaultBackend = "http://127.0.0.1:11434";

    public string Listen { get; init; } = DefaultListen;

    public IReadOnlyList<BackendOptions> Backends { get; init; } = [];

    /// <summary>Folder of the embedded SQLite database.</summary>
    public string DataDirectory { get; init; } = "./data";

    /// <summary>Admin key given on the command line or in the environment (never stored, only hashed in memory).</summary>
    public string? AdminKey { get; init; }

    /// <summary>When false every request is served without a key (a trusted single-user machine).</summary>
    public bool AuthEnabled { get; init; } = true;

    /// <summary>How long a merged model list is served before it is refreshed.</summary>
    public TimeSpan CatalogTtl { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest a listing call (tags, ps, version) may wait for one backend.</summary>
    public TimeSpan ListingTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long Corral waits for a TCP connection to a backend.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest JSON request body accepted (blob uploads are exempt).</summary>
    public long MaxBodyBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Forward the caller's key name and id as <c>X-Corral-Key-Name</c>/<c>X-Corral-Key-Id</c>.</summary>
    public bool ForwardKeyHeaders { get; init; }

    /// <summary>Where the configuration file was read from, if any (reported by the admin API).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Minimum level of log messages.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>Where start-up notices (the generated admin key, warnings) are written.</summary>
    public TextWriter Notices { get; init; } = Console.Out;
}
