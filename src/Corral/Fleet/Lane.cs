namespace Corral.Fleet;

/// <summary>
/// One model on one backend: the slots in use, the requests waiting for it, and how long its requests take there
/// (a moving average, learnt from the requests that succeeded). Changed only under the scheduler's lock.
/// </summary>
internal sealed class Lane(Backend backend, string modelKey)
{
    private const double ServiceWeight = 0.2;

    public Backend Backend { get; } = backend;

    /// <summary>The <see cref="Catalog.ModelName.Key"/> of the model's name on the backend.</summary>
    public string ModelKey { get; } = modelKey;

    public int InFlight { get; set; }

    public int Queued { get; set; }

    /// <summary>Moving average of the requests' durations in milliseconds; NaN before the first.</summary>
    public double ServiceMs { get; private set; } = double.NaN;

    /// <summary>Start timestamps of the requests in flight (kept only where the lane can be full).</summary>
    public List<long> Starts { get; } = [];

    /// <summary>Whether a request may start now.</summary>
    public bool HasFreeSlot => Backend.MaxConcurrency == 0 || InFlight < Backend.MaxConcurrency;

    /// <summary>Learns from a request that took <paramref name="ms"/> and succeeded.</summary>
    public void LearnServiceTime(double ms) => ServiceMs = double.IsNaN(ServiceMs) ? ms : ServiceMs + (ServiceWeight * (ms - ServiceMs));
}
