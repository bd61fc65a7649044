using Corral.Simulator.Models;

namespace Corral.Simulator.Scheduling;

/// <summary>One model's runner state; fields are guarded by the scheduler's lock.</summary>
internal sealed class Runner
{
    public Runner(LocalModel model, int parallel)
    {
        Model = model;
        Slots = new SemaphoreSlim(parallel, parallel);
    }

    public LocalModel Model { get; set; }

    public SemaphoreSlim Slots { get; }

    public SemaphoreSlim LoadLock { get; } = new(1, 1);

    public bool Loaded { get; set; }

    public int RefCount { get; set; }

    public TimeSpan SessionDuration { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}
