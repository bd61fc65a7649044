namespace Corral.Storage;

/// <summary>Where the admin actions are recorded (SQLite by default), newest first when read.</summary>
internal interface IAuditStore
{
    Task AddAuditEventAsync(AuditEvent audit, CancellationToken cancellationToken);

    /// <summary>Events matching <paramref name="filter"/>, newest first.</summary>
    Task<IReadOnlyList<AuditEvent>> ListAuditEventsAsync(AuditFilter filter, CancellationToken cancellationToken);
}

/// <summary>
/// One admin action: when, by which key (id and name), from which client address, what (<c>key.create</c>,
/// <c>backend.drain</c>, <c>model.pull</c>, ...), on what (a key id, a backend name, a model), and how it ended
/// (<c>ok</c>, or the status and the reason it failed).
/// </summary>
internal sealed record AuditEvent(DateTimeOffset Time, string? KeyId, string? KeyName, string? Address, string Action, string? Target, string Outcome);
