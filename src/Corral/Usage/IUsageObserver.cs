namespace Corral.Usage;

/// <summary>
/// Takes every finished request's <see cref="UsageRecord"/>: the usage store, the metrics and the request log.
/// Called on the request's own thread as it ends, so it must not block or throw: hand the record on and return.
/// </summary>
internal interface IUsageObserver
{
    void Observe(UsageRecord record);
}
