namespace Corral.Simulator.Scheduling;

/// <summary>A held slot of a loaded model; disposing it frees the slot and starts the keep_alive clock.</summary>
internal sealed class RunnerLease : IDisposable
{
    private readonly Scheduler _scheduler;
    private readonly Runner _runner;
    private int _released;

    public RunnerLease(Scheduler scheduler, Runner runner, TimeSpan waited)
    {
        _scheduler = scheduler;
        _runner = runner;
        LoadDuration = waited;
    }

    /// <summary>Time spent loading and waiting for the slot (Ollama's load_duration).</summary>
    public TimeSpan LoadDuration { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _scheduler.Release(_runner);
        }
    }
}
