namespace Corral.Storage;

/// <summary>What another Corral process changed (<see cref="IStoreChanges"/>); its lower-case name is the notification's payload.</summary>
internal enum StoreTopic
{
    /// <summary>API keys: added, changed, rotated or revoked.</summary>
    Keys,

    /// <summary>Backends added, changed or removed through the admin API.</summary>
    Backends,

    /// <summary>Model presets added, changed or removed through the admin API.</summary>
    Presets,
}
