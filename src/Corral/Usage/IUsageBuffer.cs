namespace Corral.Usage;

/// <summary>The state of the buffer between requests and the usage store, for metrics and the admin API.</summary>
internal interface IUsageBuffer
{
    /// <summary>Records dropped because the buffer was full (the store was too slow or unavailable) since start.</summary>
    long Dropped { get; }

    /// <summary>How long the oldest record not yet in the store has waited; zero when every record is written.</summary>
    TimeSpan WriteLag { get; }
}
