using System.Security.Cryptography;
using Corral.Pipeline;

namespace Corral.Anthropic;

/// <summary>
/// Anthropic's error shape, <c>{"type":"error","error":{"type","message"},"request_id"}</c>, for <c>/v1/messages</c>:
/// what Anthropic's SDKs (and Claude Code) read. The error types are Anthropic's for each status, as Ollama's
/// <c>anthropic.NewError</c> chooses them.
/// </summary>
internal sealed class AnthropicErrors : ISurfaceErrors
{
    public static AnthropicErrors Instance { get; } = new();

    public Task WriteAsync(HttpContext context, ProxyError error)
    {
        var message = error.Kind == ErrorKind.Unauthorized
            ? "invalid x-api-key: send a Corral key as 'x-api-key: <key>' or 'Authorization: Bearer <key>'"
            : error.Message;
        return JsonAnswer.WriteAsync(context, error.Status, "application/json", (Type(error.Status), message), static (writer, e) =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteStartObject("error");
            writer.WriteString("type", e.Item1);
            writer.WriteString("message", e.message);
            writer.WriteEndObject();
            writer.WriteString("request_id", "req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
            writer.WriteEndObject();
        });
    }

    /// <summary>Anthropic's error type for an HTTP status.</summary>
    public static string Type(int status) => status switch
    {
        400 or 405 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        _ => "api_error",
    };
}
