namespace Corral.Pipeline;

/// <summary>
/// Endpoint metadata of a surface route (native or OpenAI): the name its requests are recorded and counted under,
/// the same through every door (<c>/api/chat</c> and <c>/ollama/api/chat</c> are both <c>/api/chat</c>). Requests
/// to an endpoint without it (admin API, health probes, metrics) get no usage record.
/// </summary>
internal sealed record SurfaceRoute(string Route)
{
    /// <summary>The route of a path that no surface route matched.</summary>
    public static SurfaceRoute Unmatched { get; } = new("(unmatched)");
}
