using Corral.Fleet;

namespace Corral.Hosting;

/// <summary>Everything <c>corral serve</c> runs with, resolved from the command line, environment and config file.</summary>
internal sealed record CorralSettings
{
    public const string DefaultListen = "http://127.0.0.1:11480";
    public const string DefaultBackend = "http://127.0.0.1:11434";

    public string Listen { get; init; } = DefaultListen;

    public IReadOnlyList<BackendOptions> Backends { get; init; } = [];

    /// <summary>
    /// The part of <see cref="Backends"/> that does not come from the configuration file (<c>--backend</c>, the
    /// environment): a reload of the file keeps these and replaces the rest.
    /// </summary>
    public IReadOnlyList<BackendOptions> FixedBackends { get; init; } = [];

    /// <summary>Folder of the embedded SQLite database.</summary>
    public string DataDirectory { get; init; } = "./data";

    /// <summary>
    /// The PostgreSQL database that holds every store instead (<c>--database</c>), as an Npgsql connection string;
    /// null keeps the embedded SQLite database in <see cref="DataDirectory"/>. It may hold a password: never print it.
    /// </summary>
    public string? Database { get; init; }

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

    /// <summary>Longest wait for a backend's first response byte (a cold load of a large model takes minutes).</summary>
    public TimeSpan FirstByteTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest silence allowed between two chunks of a backend's answer.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Time between two active health checks of a backend (each one jittered by up to ±20%).</summary>
    public TimeSpan HealthInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the doctor looks again at a backend that stays down, since its cause may change meanwhile.</summary>
    public TimeSpan RediagnoseInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Consecutive failures (probes or requests) that open a backend's circuit.</summary>
    public int FailureThreshold { get; init; } = 3;

    /// <summary>Parallel requests per model on a backend when its configuration says nothing (Ollama's OLLAMA_NUM_PARALLEL default); 0 is unlimited.</summary>
    public int DefaultMaxConcurrency { get; init; } = 1;

    /// <summary>What loading a cold model is assumed to take on a backend before Corral has seen one load there.</summary>
    public TimeSpan ColdLoadEstimate { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Requests that may wait in Corral's queue for a free slot, across the fleet.</summary>
    public int QueueLength { get; init; } = 512;

    /// <summary>Longest a request waits in the queue before it is answered 503.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Backends tried for one request when the earlier ones failed before answering (1 = no failover).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>How long running streams may go on after SIGTERM before they are ended with an error line.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Add <c>X-Corral-Route</c> to answers, explaining why their backend was chosen.</summary>
    public bool ExplainRoutes { get; init; }

    /// <summary>How often the configuration file is checked for changes (0 turns reloading off).</summary>
    public TimeSpan ConfigPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest request body accepted: a JSON body as decompressed, an audio upload (blob uploads are exempt).</summary>
    public long MaxBodyBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Forward the caller's key name and id as <c>X-Corral-Key-Name</c>/<c>X-Corral-Key-Id</c>.</summary>
    public bool ForwardKeyHeaders { get; init; }

    /// <summary>Where the configuration file was read from, if any (reported by the admin API).</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Minimum level of log messages.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>Whether usage records are stored (<c>--usage</c>); off leaves metrics and the request log as they are.</summary>
    public bool UsageRecords { get; init; } = true;

    /// <summary>Whether Prometheus metrics are kept and served at <c>/metrics</c> (<c>--metrics</c>).</summary>
    public bool Metrics { get; init; } = true;

    /// <summary>How long usage records are kept one by one; hourly rollups outlive them. Zero keeps them for ever.</summary>
    public TimeSpan UsageRetention { get; init; } = TimeSpan.FromDays(30);

    /// <summary>A bearer token that may read <c>/metrics</c> besides admin keys (a Prometheus scrape job's), held only as a hash.</summary>
    public string? MetricsToken { get; init; }

    /// <summary>Label metrics with the caller's key name too (<c>--metrics-per-key</c>); off keeps label values bounded by the fleet.</summary>
    public bool MetricsPerKey { get; init; }

    /// <summary>Whether each request is logged as one JSON line (<c>--request-log</c>).</summary>
    public RequestLogFormat RequestLog { get; init; } = RequestLogFormat.Off;

    /// <summary>Put prompts and answers into the request log (<c>--log-bodies</c>); announced at start.</summary>
    public bool LogBodies { get; init; }

    /// <summary>Serve <c>/k/&lt;key&gt;/...</c> as the same path with that bearer key (<c>--key-in-path</c>), for clients given only a URL.</summary>
    public bool KeyInPath { get; init; }

    /// <summary>
    /// Networks whose clients are served without a key, with a role (<c>--trusted-network</c>, <c>"trustedNetworks"</c>),
    /// as read at start-up; <see cref="Access.TrustedAddresses"/> holds those in force after a reload.
    /// </summary>
    public IReadOnlyList<Access.TrustedNetwork> TrustedNetworks { get; init; } = [];

    /// <summary>Proxies whose <c>X-Forwarded-For</c> names the client (<c>--trusted-proxy</c>, <c>"trustedProxies"</c>), as read at start-up.</summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>The trusted networks of the command line alone (a reload of the file keeps them).</summary>
    public IReadOnlyList<Access.TrustedNetwork> FixedTrustedNetworks { get; init; } = [];

    /// <summary>The trusted proxies of the command line alone.</summary>
    public IReadOnlyList<System.Net.IPNetwork> FixedTrustedProxies { get; init; } = [];

    /// <summary>The model presets of the configuration file as read at start-up (a reload applies the file's own).</summary>
    public IReadOnlyList<Catalog.ModelPreset> Presets { get; init; } = [];

    /// <summary>How long a client may take no byte of its answer before it loses the answer and the backend request is cancelled.</summary>
    public TimeSpan ClientStallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where request log lines go; null is standard output.</summary>
    public Stream? RequestLogStream { get; init; }
}

/// <summary>The shape of the request log.</summary>
internal enum RequestLogFormat
{
    /// <summary>No request log.</summary>
    Off,

    /// <summary>One JSON object per line, one line per request.</summary>
    Json,
}
