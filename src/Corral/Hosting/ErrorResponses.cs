using Corral.Admin;

namespace Corral.Hosting;

/// <summary>Problem JSON for the admin API's own checks (a shorthand of <see cref="AdminErrors"/>).</summary>
internal static class ErrorResponses
{
    /// <summary>RFC 9457 problem details with <paramref name="status"/> and <paramref name="detail"/>.</summary>
    public static Task WriteProblemAsync(HttpContext context, int status, string detail) => AdminErrors.WriteAsync(context, status, detail);
}
