using Corral.Simulator.Models;

namespace Corral.Simulator.Scheduling;

/// <summary>
/// Ollama's scheduler, reduced to what a client can observe: a loaded model has <c>Parallel</c> slots
/// (extra requests wait); a request that needs a (cold) load joins a pending queue of at most
/// <c>MaxQueue</c> requests, beyond which it is refused; an idle model unloads when its keep_alive runs out.
/// </summary>
internal sealed class Scheduler
{
    /// <summary>Ollama's ErrMaxQueue text (two spaces before "maximum").</summary>
    public const string ServerBusy = "server busy, please try again.  maximum pending requests exceeded";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Runner> _runners = new(StringComparer.Ordinal);
    private readonly SimulatorOptions _options;
    private readonly TimeProvider _time;
    private int _pending;

    public Scheduler(SimulatorOptions options)
    {
        _options = options;
        _time = options.TimeProvider;
    }

    /// <summary>Requests currently waiting for a model load.</summary>
    public int PendingRequests => Volatile.Read(ref _pending);

    /// <summary>Waits for a slot of a loaded <paramref name="model"/>, loading it first if needed; null when the queue is full.</summary>
    public async Task<RunnerLease?> AcquireAsync(LocalModel model, TimeSpan keepAlive, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        Runner runner;
        bool loaded;
        lock (_gate)
        {
            runner = GetRunner(model);
            ExpireIfDue(runner);
            loaded = runner.Loaded;
        }

        if (!loaded)
        {
            if (Interlocked.Increment(ref _pending) > Math.Max(0, _options.MaxQueue))
            {
                Interlocked.Decrement(ref _pending);
                return null;
            }

            try
            {
                await runner.LoadLock.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    bool needsLoad;
                    lock (_gate)
                    {
                        ExpireIfDue(runner);
                        needsLoad = !runner.Loaded;
                    }

                    if (needsLoad && _options.LoadMs > 0)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(_options.LoadMs), _time, cancellationToken).ConfigureAwait(false);
                    }

                    lock (_gate)
                    {
                        if (needsLoad)
                        {
                            runner.Loaded = true;
                            runner.ExpiresAt = ExpiryFrom(_time.GetUtcNow(), keepAlive);
                        }
                    }
                }
                finally
                {
                    runner.LoadLock.Release();
                }
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }

        await runner.Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            runner.Model = model;
            runner.Loaded = true;
            runner.RefCount++;
            runner.SessionDuration = keepAlive;
            runner.ExpiresAt = ExpiryFrom(_time.GetUtcNow(), keepAlive);
        }

        return new RunnerLease(this, runner, _time.GetElapsedTime(started));
    }

    /// <summary>Unloads the model now, or as soon as its running requests finish (keep_alive 0).</summary>
    public void Expire(LocalModel model)
    {
        lock (_gate)
        {
            if (!_runners.TryGetValue(model.Key, out var runner))
            {
                return;
            }

            runner.SessionDuration = TimeSpan.Zero;
            if (runner.RefCount == 0)
            {
                runner.Loaded = false;
            }
        }
    }

    /// <summary>Loaded models with their expiry, latest expiry first (like <c>/api/ps</c>).</summary>
    public IReadOnlyList<(LocalModel Model, DateTimeOffset ExpiresAt)> Loaded()
    {
        var loaded = new List<(LocalModel Model, DateTimeOffset ExpiresAt)>();
        lock (_gate)
        {
            foreach (var runner in _runners.Values)
            {
                ExpireIfDue(runner);
                if (runner.Loaded)
                {
                    loaded.Add((runner.Model, runner.ExpiresAt));
                }
            }
        }

        loaded.Sort((a, b) => b.ExpiresAt.CompareTo(a.ExpiresAt));
        return loaded;
    }

    internal void Release(Runner runner)
    {
        lock (_gate)
        {
            runner.RefCount--;
            if (runner.RefCount == 0)
            {
                if (runner.SessionDuration <= TimeSpan.Zero)
                {
                    runner.Loaded = false;
                }
                else
                {
                    runner.ExpiresAt = ExpiryFrom(_time.GetUtcNow(), runner.SessionDuration);
                }
            }
        }

        runner.Slots.Release();
    }

    private static DateTimeOffset ExpiryFrom(DateTimeOffset now, TimeSpan keepAlive) =>
        keepAlive >= DateTimeOffset.MaxValue - now ? DateTimeOffset.MaxValue : now.Add(keepAlive);

    private Runner GetRunner(LocalModel model)
    {
        if (!_runners.TryGetValue(model.Key, out var runner))
        {
            runner = new Runner(model, Math.Max(1, _options.Parallel));
            _runners[model.Key] = runner;
        }

        return runner;
    }

    private void ExpireIfDue(Runner runner)
    {
        if (runner.Loaded && runner.RefCount == 0 && runner.ExpiresAt <= _time.GetUtcNow())
        {
            runner.Loaded = false;
        }
    }
}
