namespace Corral.Access;

/// <summary>
/// Who is calling: the API key that authenticated the request. Set as an HttpContext feature.
/// <see cref="AssertsUsers"/>: the key may name the end users it serves, for usage records.
/// </summary>
internal sealed record Caller(string KeyId, string KeyName, KeyRole Role, bool AssertsUsers = false)
{
    /// <summary>The caller when authentication is switched off (<c>--auth off</c>): a trusted machine, so it may name users.</summary>
    public static Caller Anonymous { get; } = new("anonymous", "anonymous", KeyRole.Admin, AssertsUsers: true);

    public bool IsAdmin => Role == KeyRole.Admin;

    /// <summary>The models the key may use (every model unless its <c>models</c> say otherwise).</summary>
    public ModelAllowList Models { get; init; } = ModelAllowList.Everything;

    /// <summary>What the key has used and may still use; null for a caller without a key of its own (anonymous).</summary>
    public KeyState? State { get; init; }
}
