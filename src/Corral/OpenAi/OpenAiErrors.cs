using Corral.Pipeline;

namespace Corral.OpenAi;

/// <summary>OpenAI's error envelope, <c>{"error":{"message","type","param","code"}}</c>, for the <c>/v1</c> surface.</summary>
internal sealed class OpenAiErrors : ISurfaceErrors
{
    public static OpenAiErrors Instance { get; } = new();

    public Task WriteAsync(HttpContext context, ProxyError error)
    {
        // OpenAI's own words for a bad key, and its codes where a client acts on them.
        var message = error.Kind == ErrorKind.Unauthorized ? "Incorrect API key provided. Send it as 'Authorization: Bearer <key>'." : error.Message;
        var code = error.Kind switch
        {
            ErrorKind.Unauthorized => "invalid_api_key",
            ErrorKind.Busy => "server_busy",
            ErrorKind.RateLimited => "rate_limit_exceeded",
            _ => null,
        };
        var type = error.RateLimitType ?? error.Status switch
        {
            400 or 401 or 403 or 405 or 413 => "invalid_request_error",
            404 => "not_found_error",
            _ => "api_error",
        };
        return JsonAnswer.WriteAsync(context, error.Status, "application/json", (message, type, code), static (writer, e) =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", e.message);
            writer.WriteString("type", e.type);
            writer.WriteNull("param");
            if (e.code is null)
            {
                writer.WriteNull("code");
            }
            else
            {
                writer.WriteString("code", e.code);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }
}
