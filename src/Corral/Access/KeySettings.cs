namespace Corral.Access;

/// <summary>What an admin sets on a key (<c>POST</c> and <c>PATCH /admin/api/keys</c>); the rest is Corral's.</summary>
internal sealed record KeySettings(
    string Name,
    KeyRole Role,
    string? Description,
    IReadOnlyList<string> Models,
    KeyLimits Limits,
    DateTimeOffset? ExpiresAt,
    bool AssertsUsers)
{
    public static KeySettings Of(string name, KeyRole role, DateTimeOffset? expiresAt = null, bool assertsUsers = false) =>
        new(name, role, null, [], KeyLimits.None, expiresAt, assertsUsers);
}
