namespace Corral.Pipeline;

/// <summary>
/// Writes a <see cref="ProxyError"/> in one surface's shape: Ollama's <c>{"error"}</c>, OpenAI's envelope, the
/// admin API's problem JSON. Endpoint metadata: each route group carries the writer of its surface, so an error's
/// shape follows the endpoint that answers, never the path.
/// </summary>
internal interface ISurfaceErrors
{
    /// <summary>Writes the error body; status and the common headers are already set.</summary>
    Task WriteAsync(HttpContext context, ProxyError error);
}
