namespace Corral.Access;

/// <summary>Who is calling: the API key that authenticated the request. Set as an HttpContext feature.</summary>
internal sealed record Caller(string KeyId, string KeyName, KeyRole Role)
{
    /// <summary>The caller when authentication is switched off (<c>--auth off</c>).</summary>
    public static Caller Anonymous { get; } = new("anonymous", "anonymous", KeyRole.Admin);

    public bool IsAdmin => Role == KeyRole.Admin;
}
