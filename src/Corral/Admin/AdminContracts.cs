using System.Text.Json.Serialization;

namespace Corral.Admin;

/// <summary>
/// A key as the admin API shows it: never its secret (<see cref="Key"/> only in the answers that create or rotate
/// it), only a hint of its first characters. Null limits are no limits; no <c>models</c>, every model.
/// </summary>
internal sealed record KeyResponse(
    string Id,
    string Name,
    string Role,
    string? Description,
    string[] Models,
    int? RequestsPerMinute,
    long? TokensPerMinute,
    long? TokensPerDay,
    int? MaxConcurrency,
    DateTimeOffset? ExpiresAt,
    bool AssertsUsers,
    string Hint,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    bool Active)
{
    /// <summary>The secret: only in the answer to a creation or a rotation.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Key { get; init; }

    /// <summary>After a rotation with a grace period: until when the previous secret works.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? PreviousKeyValidUntil { get; init; }
}

/// <summary>Answer of <c>GET /admin/api/keys/me</c>: the calling key, what remains of its limits, its usage today (UTC).</summary>
internal sealed record KeyMeResponse(KeyResponse Key, RemainingResponse Remaining, UsageTodayResponse UsageToday);

/// <summary>What remains of each of a key's limits; null for a limit it does not have.</summary>
internal sealed record RemainingResponse(RateResponse? RequestsPerMinute, RateResponse? TokensPerMinute, RateResponse? TokensPerDay, ConcurrencyResponse? MaxConcurrency);

/// <summary>One rate: its limit, what remains now, and the seconds until it is whole again.</summary>
internal sealed record RateResponse(long Limit, long Remaining, double ResetSeconds);

/// <summary>The key's requests holding backend slots now, and its limit.</summary>
internal sealed record ConcurrencyResponse(int Limit, int InFlight);

/// <summary>The key's requests since midnight UTC, as recorded (the usage store is written within about a second).</summary>
internal sealed record UsageTodayResponse(DateTime From, long Requests, long Errors, long PromptTokens, long CompletionTokens, long TotalTokens);

/// <summary>Answer of <c>GET /admin/api/backends</c>: every backend, requests waiting across the fleet, digest conflicts.</summary>
internal sealed record BackendsResponse(BackendResponse[] Backends, int QueueDepth, ConflictResponse[] Conflicts);

/// <summary>
/// One backend: configuration (its key only as <c>hasKey</c>), where it was defined, its state and health, live
/// counters, what it has loaded, and its last listing.
/// </summary>
internal sealed record BackendResponse(
    string Name,
    string Url,
    string State,
    string Origin,
    bool Enabled,
    string? Prefix,
    string[] AllowedModels,
    string[] Tags,
    double Weight,
    int Priority,
    int MaxConcurrency,
    TimeoutsResponse Timeouts,
    bool HasKey,
    int InFlight,
    int QueueDepth,
    LoadedModelResponse[] LoadedModels,
    double? LatencyMs,
    string? LastError,
    DateTimeOffset? LastErrorAt,
    Fleet.Diagnosis? Diagnosis,
    int ConsecutiveFailures,
    ListingResponse? Listing,
    string[] Models);

/// <summary>A backend's timeouts in force, in seconds.</summary>
internal sealed record TimeoutsResponse(double Connect, double FirstByte, double Idle);

/// <summary>A model a backend holds in memory (its own name for it) and until when.</summary>
internal sealed record LoadedModelResponse(string Name, DateTimeOffset ExpiresAt);

/// <summary>
/// A backend's settings as the admin API takes them (<c>POST</c>/<c>PUT /admin/api/backends</c>) and as they are
/// stored for a backend added through it. Timeouts are in seconds; null means the global setting.
/// </summary>
internal sealed record BackendDefinition(
    string Name,
    string Url,
    string? Key,
    string? Prefix,
    string[] Models,
    string[] Tags,
    double Weight,
    int? MaxConcurrency,
    int Priority,
    double? ConnectTimeout,
    double? FirstByteTimeout,
    double? IdleTimeout,
    bool Enabled);

/// <summary>
/// Answer of <c>POST /admin/api/backends/verify</c>: what the server said through Corral's own client, or why it
/// could not be asked; and the doctor's checks of it, with the Ollamas discovery found elsewhere when it failed.
/// </summary>
internal sealed record VerifyResponse(
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Version,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Models,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error,
    Doctor.CheckStatus Status,
    IReadOnlyList<Doctor.DoctorCheck> Checks,
    IReadOnlyList<Doctor.FoundOllama> Found);

/// <summary>Answer of <c>POST /admin/api/models/unload</c>: one entry per backend that held the model.</summary>
internal sealed record UnloadResponse(string Model, UnloadResult[] Backends);

/// <summary>Whether one backend unloaded the model, and if not, why.</summary>
internal sealed record UnloadResult(
    string Name,
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

/// <summary>How the backend's model list was last read.</summary>
internal sealed record ListingResponse(bool Ok, string? Error, DateTimeOffset? LastSuccess, DateTimeOffset CheckedAt);

/// <summary>A model name held by several backends with different digests.</summary>
internal sealed record ConflictResponse(string Model, ConflictHolder[] Backends);

/// <summary>One holder of a conflicting model.</summary>
internal sealed record ConflictHolder(string Backend, string? Digest);
