namespace Corral.Storage;

/// <summary>
/// Tells that another Corral process sharing this one's database changed keys or backends, so that what this
/// process holds in memory is read again. PostgreSQL: a notification on the channel <c>corral_changes</c>, sent in the
/// writing transaction (<see cref="PostgresChangeListener"/>). The embedded SQLite database belongs to one process:
/// <see cref="NoStoreChanges"/>.
/// </summary>
internal interface IStoreChanges
{
    /// <summary>
    /// Raised, on any thread, when another process changed the topic's rows; also for every topic after the listener
    /// (re)connected, since changes made while it was not listening were missed.
    /// </summary>
    event Action<StoreTopic>? Changed;

    /// <summary>Whether changes are being listened for now (false while the listener reconnects); for health.</summary>
    bool IsConnected { get; }
}
