namespace Corral.Hosting;

/// <summary>
/// The raw values of <c>corral serve</c>'s options, before the environment and config file are applied. The fleet
/// options (timeouts, limits, queueing) are kept as the text given, so that a value that is not a number is
/// reported by <see cref="SettingsResolver"/> together with every other problem.
/// </summary>
internal sealed record ServeArguments
{
    public string? Listen { get; init; }
    public IReadOnlyList<string> Backends { get; init; } = [];
    public string? ConfigFile { get; init; }
    public string? DataDirectory { get; init; }
    public string? Database { get; init; }
    public string? AdminKey { get; init; }
    public string? Auth { get; init; }
    public string? CatalogTtlSeconds { get; init; }
    public string? ListingTimeoutSeconds { get; init; }
    public string? ConnectTimeoutSeconds { get; init; }
    public string? MaxBodyMegabytes { get; init; }
    public bool ForwardKeyHeaders { get; init; }
    public string? LogLevel { get; init; }
    public string? FirstByteTimeoutSeconds { get; init; }
    public string? IdleTimeoutSeconds { get; init; }
    public string? HealthIntervalSeconds { get; init; }
    public string? FailureThreshold { get; init; }
    public string? MaxConcurrency { get; init; }
    public string? QueueLength { get; init; }
    public string? QueueTimeoutSeconds { get; init; }
    public string? ColdLoadSeconds { get; init; }
    public string? MaxAttempts { get; init; }
    public string? DrainTimeoutSeconds { get; init; }
    public bool ExplainRoutes { get; init; }
    public string? ConfigPollSeconds { get; init; }
    public string? Usage { get; init; }
    public string? Metrics { get; init; }
    public string? UsageRetentionDays { get; init; }
    public string? MetricsToken { get; init; }
    public bool MetricsPerKey { get; init; }
    public string? RequestLog { get; init; }
    public bool LogBodies { get; init; }
    public bool KeyInPath { get; init; }
    public IReadOnlyList<string> TrustedNetworks { get; init; } = [];
    public IReadOnlyList<string> TrustedProxies { get; init; } = [];
    public string? ClientStallTimeoutSeconds { get; init; }
}
