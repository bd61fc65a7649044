namespace Corral.Storage;

/// <summary>
/// Which events <see cref="IAuditStore.ListAuditEventsAsync"/> returns: in [<see cref="From"/>, <see cref="To"/>)
/// (either open), of an <see cref="Action"/> (<c>key.create</c>; <c>key</c> or <c>key.</c> for every key action), by
/// an <see cref="Actor"/> (the key's id or name), at most <see cref="Limit"/>, newest first.
/// </summary>
internal sealed record AuditFilter(DateTimeOffset? From, DateTimeOffset? To, string? Action, string? Actor, int Limit)
{
    /// <summary>What an action under <see cref="Action"/> starts with (<c>key.</c> for <c>key</c> or <c>key.</c>); null without one.</summary>
    public string? ActionPrefix => Action is null ? null : Action.TrimEnd('.') + ".";
}
