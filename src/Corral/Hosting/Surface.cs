namespace Corral.Hosting;

/// <summary>Which API a path belongs to; each answers errors in its own shape.</summary>
internal enum Surface
{
    /// <summary>Ollama's native API: <c>{"error":"..."}</c>.</summary>
    Native,

    /// <summary>The OpenAI-compatible API under <c>/v1</c>: <c>{"error":{"message",...}}</c>.</summary>
    OpenAi,

    /// <summary>The admin API under <c>/admin/api</c>: RFC 9457 problem JSON.</summary>
    Admin,
}
