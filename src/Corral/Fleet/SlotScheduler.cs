using Corral.Hosting;

namespace Corral.Fleet;

/// <summary>
/// Gives each inference request a slot on a backend, or holds it until one frees. Every backend has
/// <see cref="Backend.MaxConcurrency"/> slots per model (Ollama's OLLAMA_NUM_PARALLEL), kept in one
/// <see cref="Lane"/> per model per backend. Which lane is the <see cref="IBackendChoice"/> policy's call; a
/// session may stick to its backend (<see cref="SessionAffinity"/>); requests that cannot start wait in one
/// bounded <see cref="FairQueue{T}"/>, served in turn across keys, and start as slots free. A waiting request
/// re-checks its choice at least once a second. The lock is held only for this bookkeeping; it is uncontended
/// unless requests arrive faster than a few per microsecond. Hand-written because no available library schedules
/// by model residency.
/// </summary>
internal sealed class SlotScheduler : ILaneSource
{
    private static readonly TimeSpan s_longestRecheck = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly Dictionary<(Backend, string), Lane> _lanes = [];
    private readonly FairQueue<Waiter> _queue = new(w => w.Request.Fairness);
    private readonly SessionAffinity _sessions;
    private readonly IBackendChoice _choice;
    private readonly CorralSettings _settings;
    private readonly TimeProvider _time;
    private readonly Func<Waiter, bool> _canStart;
    private readonly Action<Waiter> _startWaiter;
    private int _waiting;

    public SlotScheduler(CorralSettings settings, TimeProvider time, IBackendChoice? choice = null)
    {
        _settings = settings;
        _time = time;
        _choice = choice ?? new ExpectedWaitChoice(time);
        _sessions = new SessionAffinity(time);
        _canStart = CanStart;
        _startWaiter = StartWaiter;
    }

    /// <summary>Requests waiting for a slot across the fleet.</summary>
    public int QueueDepth => Volatile.Read(ref _waiting);

    /// <summary>Requests waiting whose best choice right now is <paramref name="backend"/>.</summary>
    public int QueueDepthOf(Backend backend)
    {
        lock (_gate)
        {
            var depth = 0;
            foreach (var lane in _lanes.Values)
            {
                if (lane.Backend == backend)
                {
                    depth += lane.Queued;
                }
            }

            return depth;
        }
    }

    /// <summary>The lane of a model on a backend, by the backend's own spelling of its name (catalog names are canonical).</summary>
    public Lane LaneOf(Backend backend, string upstreamName)
    {
        if (!_lanes.TryGetValue((backend, upstreamName), out var lane))
        {
            lane = new Lane(backend, Catalog.ModelName.Key(upstreamName));
            _lanes[(backend, upstreamName)] = lane;
        }

        return lane;
    }

    /// <summary>Gives the request a slot on the best backend, waiting in the queue if need be.</summary>
    public async ValueTask<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            var choice = Choose(request, waiting: null);
            if (choice.Lane is null)
            {
                return NoBackend(request);
            }

            if (choice.CanStart && request.CallerHasRoom)
            {
                return Start(request, choice);
            }

            if (_waiting >= _settings.QueueLength)
            {
                return Rejection.QueueFull(choice.WaitMs);
            }

            waiter = new Waiter(request, _time.GetUtcNow());
            waiter.Node = _queue.Enqueue(waiter);
            _waiting++;
            Retarget(waiter, choice);
        }

        var deadline = waiter.Enqueued + _settings.QueueTimeout;
        while (true)
        {
            var left = deadline - _time.GetUtcNow();
            var recheck = TimeSpan.FromMilliseconds(Math.Clamp(waiter.WaitMs, 10, s_longestRecheck.TotalMilliseconds));
            try
            {
                return await waiter.Completion.Task.WaitAsync(left < recheck ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : recheck, _time, cancellationToken);
            }
            catch (TimeoutException)
            {
                lock (_gate)
                {
                    if (!waiter.Completion.Task.IsCompleted)
                    {
                        if (_time.GetUtcNow() >= deadline)
                        {
                            Remove(waiter);
                            return Rejection.QueueTimeout(request.Model.Name, _settings.QueueTimeout, waiter.WaitMs);
                        }

                        var choice = Choose(request, waiter);
                        if (choice.Lane is null)
                        {
                            Remove(waiter);
                            return NoBackend(request);
                        }

                        if (choice.CanStart && request.CallerHasRoom)
                        {
                            Remove(waiter);
                            return Start(request, choice);
                        }

                        Retarget(waiter, choice);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    if (!waiter.Completion.Task.IsCompleted)
                    {
                        Remove(waiter);
                        throw;
                    }
                }

                // A slot was granted as the client left: give it back.
                (await waiter.Completion.Task).Admission?.Dispose();
                throw;
            }
        }
    }

    /// <summary>Looks again at every waiting request (a backend came back, was enabled or changed).</summary>
    public void Reconsider()
    {
        lock (_gate)
        {
            StartWaiters();
        }
    }

    /// <summary>Returns a slot: records how long the request took (when it succeeded) and starts whoever can go next.</summary>
    internal void Release(Admission admission, Lane lane, bool succeeded)
    {
        var took = _time.GetElapsedTime(admission.Started).TotalMilliseconds;
        lock (_gate)
        {
            lane.InFlight--;
            if (admission.Concurrency is { } caller)
            {
                caller.InFlight--;
            }

            lane.Starts.Remove(admission.Started);
            if (succeeded)
            {
                lane.LearnServiceTime(took);
            }

            StartWaiters();
        }
    }

    private Choice Choose(AdmissionRequest request, Waiter? waiting)
    {
        // A session sticks to its backend while that backend can take it.
        var pinned = request.Session is { } session && _sessions.BackendOf(session) is { } stuck && request.IsEligible(stuck) ? stuck : null;
        return _choice.Choose(request, this, pinned, waiting?.Lane);
    }

    private Admission Start(AdmissionRequest request, Choice choice)
    {
        var lane = choice.Lane!;
        var backend = lane.Backend;
        lane.InFlight++;
        if (request.Concurrency is { } caller)
        {
            caller.InFlight++;
        }

        var started = _time.GetTimestamp();
        if (backend.MaxConcurrency != 0)
        {
            // Only a lane that can be full needs its start times (for when it frees).
            lane.Starts.Add(started);
        }

        if (request.Session is { } session)
        {
            _sessions.Stick(session, backend);
        }

        var reason = _settings.ExplainRoutes ? _choice.Explain(choice, request) : null;
        return new Admission(this, lane, choice.Location!, backend.Acquire(), started, choice.Loaded, reason) { Concurrency = request.Concurrency };
    }

    /// <summary>Starts waiting requests that can start, one per caller per round, until none can.</summary>
    private void StartWaiters()
    {
        while (_waiting > 0 && _queue.StartNext(_canStart, _startWaiter))
        {
        }
    }

    // Under the lock: whether the waiter can start now; if not, it waits for its best lane from now on.
    private bool CanStart(Waiter waiter)
    {
        if (!waiter.Request.CallerHasRoom)
        {
            // Over its key's maxConcurrency: it keeps its place and its lane, and holds no slot.
            return false;
        }

        var choice = Choose(waiter.Request, waiter);
        if (choice.Lane is null)
        {
            return false;
        }

        if (choice.CanStart)
        {
            waiter.Choice = choice;
            return true;
        }

        Retarget(waiter, choice);
        return false;
    }

    // Under the lock: the waiter left the queue (FairQueue took it out); give it its slot.
    private void StartWaiter(Waiter waiter)
    {
        Forget(waiter);
        waiter.Completion.TrySetResult(Start(waiter.Request, waiter.Choice));
    }

    private void Remove(Waiter waiter)
    {
        if (waiter.Node is { } node && _queue.Remove(node))
        {
            Forget(waiter);
        }
    }

    // The waiter is out of the queue: it no longer counts as waiting, nor for the lane it waited for.
    private void Forget(Waiter waiter)
    {
        waiter.Node = null;
        _waiting--;
        if (waiter.Lane is { } lane)
        {
            lane.Queued--;
            waiter.Lane = null;
        }
    }

    private static void Retarget(Waiter waiter, Choice choice)
    {
        if (waiter.Lane != choice.Lane)
        {
            if (waiter.Lane is { } old)
            {
                old.Queued--;
            }

            waiter.Lane = choice.Lane;
            choice.Lane!.Queued++;
        }

        waiter.WaitMs = choice.WaitMs;
    }

    private Rejection NoBackend(AdmissionRequest request) => Rejection.NoBackend(request.Model, request.Excluded, _settings.HealthInterval);

    private sealed class Waiter(AdmissionRequest request, DateTimeOffset enqueued)
    {
        public AdmissionRequest Request { get; } = request;

        public DateTimeOffset Enqueued { get; } = enqueued;

        public TaskCompletionSource<AdmissionResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public Lane? Lane { get; set; }

        public double WaitMs { get; set; }

        /// <summary>The choice it starts with, once it can.</summary>
        public Choice Choice { get; set; }
    }
}
