using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Admin;

/// <summary>RFC 9457 problem details, <c>application/problem+json</c>, as the admin API (and the metrics endpoint) answer errors.</summary>
internal sealed class AdminErrors : ISurfaceErrors
{
    public static AdminErrors Instance { get; } = new();

    public Task WriteAsync(HttpContext context, ProxyError error)
    {
        var problem = new ProblemBody("about:blank", Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(error.Status), error.Status, error.Message);
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(problem, CorralJsonContext.Default.ProblemBody);
        return JsonAnswer.SendAsync(context, error.Status, "application/problem+json", body);
    }

    /// <summary>Answers a problem with <paramref name="status"/> and <paramref name="detail"/> (the admin API's own checks).</summary>
    public static Task WriteAsync(HttpContext context, int status, string detail) =>
        ErrorWriter.WriteAsync(context, new ProxyError(KindOf(status), status, detail));

    private static ErrorKind KindOf(int status) => status switch
    {
        400 => ErrorKind.BadRequest,
        401 => ErrorKind.Unauthorized,
        403 => ErrorKind.Forbidden,
        404 => ErrorKind.NotFound,
        405 => ErrorKind.MethodNotAllowed,
        413 => ErrorKind.TooLarge,
        _ => status >= 500 ? ErrorKind.Internal : ErrorKind.BadRequest,
    };
}

/// <summary>The body of an RFC 9457 problem answer.</summary>
internal sealed record ProblemBody(string Type, string Title, int Status, string Detail);
