using Corral.Pipeline;

namespace Corral.Native;

/// <summary>Ollama's error shape, <c>{"error":"..."}</c>, for the native surface (and any endpoint without a surface of its own).</summary>
internal sealed class NativeErrors : ISurfaceErrors
{
    public static NativeErrors Instance { get; } = new();

    public Task WriteAsync(HttpContext context, ProxyError error) =>
        JsonAnswer.SendAsync(context, error.Status, "application/json; charset=utf-8", Forwarding.OllamaError.Encode(error.Message));
}
