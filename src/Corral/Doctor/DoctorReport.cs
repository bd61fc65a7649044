using System.Text.Json.Serialization;

namespace Corral.Doctor;

/// <summary>How a check ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CheckStatus>))]
internal enum CheckStatus
{
    [JsonStringEnumMemberName("ok")]
    Ok,

    [JsonStringEnumMemberName("warn")]
    Warn,

    [JsonStringEnumMemberName("fail")]
    Fail,

    /// <summary>Not run: an earlier check failed, so this one could say nothing.</summary>
    [JsonStringEnumMemberName("skip")]
    Skip,
}

/// <summary>One check of an Ollama URL: what was found, in one plain sentence, and where something is wrong the exact fix.</summary>
internal sealed record DoctorCheck(
    string Name,
    CheckStatus Status,
    string Finding,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Fix = null);

/// <summary>
/// Every check of one Ollama URL, in order, and the worst of their statuses; when the URL failed, the Ollamas that
/// discovery found answering elsewhere (empty when it was not run or found none).
/// </summary>
internal sealed record DoctorTarget(string Url, CheckStatus Status, IReadOnlyList<DoctorCheck> Checks, IReadOnlyList<FoundOllama> Found);

/// <summary>An Ollama that discovery found answering: where, its version and how many models it has.</summary>
internal sealed record FoundOllama(string Url, string? Version, int Models);

/// <summary>
/// What the doctor found: where it runs, each URL it checked, and the URL it recommends using instead of a failing
/// one (null when nothing failed or nothing better was found); with <c>--container</c>, what it found about that
/// container (else null).
/// </summary>
internal sealed record DoctorReport(
    DoctorEnvironment Environment,
    IReadOnlyList<DoctorTarget> Targets,
    string? Recommendation = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ContainerReport? Container = null)
{
    /// <summary>0 when every check is ok, 1 with warnings, 2 with failures (the exit code of <c>corral doctor</c>).</summary>
    public int ExitCode => Statuses.Contains(CheckStatus.Fail) ? 2 : Statuses.Contains(CheckStatus.Warn) ? 1 : 0;

    private IEnumerable<CheckStatus> Statuses => Targets.Select(t => t.Status).Append(Container?.Status ?? CheckStatus.Ok);
}
