using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Admin;

namespace Corral.Hosting;

/// <summary>Source-generated JSON for the admin API's bodies (no reflection at run time).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(KeyResponse))]
[JsonSerializable(typeof(KeyResponse[]))]
[JsonSerializable(typeof(KeyMeResponse))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(BackendsResponse))]
[JsonSerializable(typeof(BackendResponse))]
[JsonSerializable(typeof(BackendDefinition))]
[JsonSerializable(typeof(VerifyResponse))]
[JsonSerializable(typeof(UnloadResponse))]
[JsonSerializable(typeof(HealthBody))]
[JsonSerializable(typeof(UsageResponse))]
[JsonSerializable(typeof(UsageRequestsResponse))]
[JsonSerializable(typeof(AuditResponse))]
[JsonSerializable(typeof(Corral.Doctor.DoctorReport))]
[JsonSerializable(typeof(Corral.Doctor.ContainerReport))]
internal sealed partial class CorralJsonContext : JsonSerializerContext;
