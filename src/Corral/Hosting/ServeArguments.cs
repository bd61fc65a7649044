namespace Corral.Hosting;

/// <summary>The raw values of <c>corral serve</c>'s options, before the environment and config file are applied.</summary>
internal sealed record ServeArguments
{
    public string? Listen { get; init; }
    public IReadOnlyList<string> Backends { get; init; } = [];
    public string? ConfigFile { get; init; }
    public string? DataDirectory { get; init; }
    public string? AdminKey { get; init; }
    public string? Auth { get; init; }
    public double? CatalogTtlSeconds { get; init; }
    public double? ListingTimeoutSeconds { get; init; }
    public double? ConnectTimeoutSeconds { get; init; }
    public double? MaxBodyMegabytes { get; init; }
    public bool ForwardKeyHeaders { get; init; }
    public string? LogLevel { get; init; }
}
