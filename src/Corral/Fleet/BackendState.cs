namespace Corral.Fleet;

/// <summary>What a backend can do right now, as the admin API shows it.</summary>
internal enum BackendState
{
    /// <summary>Answering; requests are routed to it.</summary>
    Healthy,

    /// <summary>Its circuit is open after consecutive failures; only health probes reach it until one succeeds.</summary>
    Unhealthy,

    /// <summary>Finishing the requests it has; no new ones are sent to it.</summary>
    Draining,

    /// <summary>Switched off by configuration or the admin API.</summary>
    Disabled,
}
