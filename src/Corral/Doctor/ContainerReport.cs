using System.Text.Json.Serialization;

namespace Corral.Doctor;

/// <summary>An Ollama URL a container is configured with, and where it was read (<c>OLLAMA_BASE_URL</c>, a file).</summary>
internal sealed record ContainerUrl(string Url, string Source);

/// <summary>
/// What <c>corral doctor --container NAME</c> found: the tool it looked with, the container's Ollama URLs, the checks
/// run from inside it, the URL that answers from there, and the commands that give the container that URL.
/// </summary>
internal sealed record ContainerReport(
    string Name,
    string? Tool,
    CheckStatus Status,
    IReadOnlyList<ContainerUrl> Urls,
    IReadOnlyList<DoctorCheck> Checks,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Recommendation,
    IReadOnlyList<string> Recreate);
