using System.Diagnostics;
using System.Globalization;
using Corral.Catalog;
using Corral.Hosting;

namespace Corral.Fleet;

/// <summary>
/// Chooses the backend for each inference request and holds requests that must wait for a slot.
/// <para>
/// Every backend has <see cref="Backend.MaxConcurrency"/> slots per model (Ollama's OLLAMA_NUM_PARALLEL). For a
/// request, each healthy backend holding the model gets an expected wait: nothing for a loaded model with a free
/// slot; the backend's observed load time for a cold one; for a full one, the time until its earliest running
/// request should end (from the observed service time) plus the turns of those already waiting for it. The
/// shortest wait wins, then the better priority tier, then the lighter load per weight. So a loaded backend is
/// preferred, a cold one is used when it is free, and a loaded one that frees soon still beats a long cold load.
/// Backends of a later priority tier are considered only when no earlier tier has a free slot.
/// </para>
/// <para>
/// Requests that cannot start wait in one bounded queue, served in turn across callers (one request per key per
/// round), and start as slots free; a waiting request re-checks its choice at least once a second.
/// </para>
/// The lock is held only for bookkeeping; it is uncontended unless requests arrive faster than a few per
/// microsecond. Hand-written because no available library schedules by model residency.
/// </summary>
internal sealed class SlotScheduler(CorralSettings settings, TimeProvider time)
{
    /// <summary>Assumed duration of a request on a model before one was seen to finish.</summary>
    private static readonly TimeSpan s_defaultServiceTime = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_longestRecheck = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_sessionIdle = TimeSpan.FromMinutes(30);
    private const int MaxSessions = 10_000;
    private const double ServiceWeight = 0.2;

    private readonly Lock _gate = new();
    private readonly Dictionary<(Backend, string), Lane> _lanes = [];
    private readonly Dictionary<string, LinkedList<Waiter>> _queues = new(StringComparer.Ordinal);
    private readonly List<string> _turns = [];
    private readonly Dictionary<string, (Backend Backend, DateTimeOffset LastUsed)> _sessions = new(StringComparer.Ordinal);
    private int _nextTurn;
    private int _waiting;
    private uint _rotation;

    /// <summary>Requests waiting for a slot across the fleet.</summary>
    public int QueueDepth => Volatile.Read(ref _waiting);

    /// <summary>Requests waiting whose best choice right now is <paramref name="backend"/>.</summary>
    public int QueueDepthOf(Backend backend)
    {
        lock (_gate)
        {
            return _lanes.Values.Where(l => l.Backend == backend).Sum(l => l.Queued);
        }
    }

    /// <summary>Gives the request a slot on the best backend, waiting in the queue if need be.</summary>
    public async ValueTask<AdmissionResult> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            var choice = Choose(request, self: null);
            if (choice.Lane is null)
            {
                return NoBackend(request);
            }

            if (choice.CanStart)
            {
                return Start(request, choice);
            }

            if (_waiting >= settings.QueueLength)
            {
                return new Rejection(RejectionKind.QueueFull, "server busy, please try again.  maximum pending requests exceeded", RetryAfter(choice.WaitMs));
            }

            waiter = Enqueue(request, choice);
        }

        var deadline = waiter.Enqueued + settings.QueueTimeout;
        while (true)
        {
            var left = deadline - time.GetUtcNow();
            var recheck = TimeSpan.FromMilliseconds(Math.Clamp(waiter.WaitMs, 10, s_longestRecheck.TotalMilliseconds));
            try
            {
                return await waiter.Completion.Task.WaitAsync(left < recheck ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : recheck, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                lock (_gate)
                {
                    if (!waiter.Completion.Task.IsCompleted)
                    {
                        if (time.GetUtcNow() >= deadline)
                        {
                            Remove(waiter);
                            return new Rejection(
                                RejectionKind.QueueTimeout,
                                $"server busy, please try again.  no slot for '{request.Model.Name}' freed within {Seconds(settings.QueueTimeout)} s (--queue-timeout)",
                                RetryAfter(waiter.WaitMs));
                        }

                        var choice = Choose(request, waiter);
                        if (choice.Lane is null)
                        {
                            Remove(waiter);
                            return NoBackend(request);
                        }

                        if (choice.CanStart)
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
            DispatchWaiters();
        }
    }

    private Choice Choose(AdmissionRequest request, Waiter? self)
    {
        var now = time.GetUtcNow();
        var stamp = Stopwatch.GetTimestamp();
        var locations = request.Model.Locations;
        var candidates = request.Model.Candidates;

        // A session sticks to its backend while that backend can take it.
        Backend? pinned = null;
        if (request.Session is { } session && _sessions.TryGetValue(session, out var stuck) && Eligible(stuck.Backend, request, candidates))
        {
            pinned = stuck.Backend;
        }

        // The best tier that can start the request now bounds which tiers are considered.
        var bestFreeTier = int.MaxValue;
        for (var i = 0; i < locations.Count; i++)
        {
            var backend = locations[i].Backend;
            if ((pinned is null || backend == pinned) && Eligible(backend, request, candidates) && backend.Options.Priority < bestFreeTier
                && HasFreeSlot(LaneOf(backend, locations[i].UpstreamName), backend))
            {
                bestFreeTier = backend.Options.Priority;
            }
        }

        var best = default(Choice);
        var start = locations.Count == 0 ? 0 : (int)(_rotation++ % (uint)locations.Count);
        for (var n = 0; n < locations.Count; n++)
        {
            var location = locations[(start + n) % locations.Count];
            var backend = location.Backend;
            if ((pinned is not null && backend != pinned) || !Eligible(backend, request, candidates) || backend.Options.Priority > bestFreeTier)
            {
                continue;
            }

            var lane = LaneOf(backend, location.UpstreamName);
            var free = HasFreeSlot(lane, backend);
            var loaded = lane.InFlight > 0 || backend.Loaded.IsLoaded(lane.ModelKey, now);
            var waitMs = (free ? 0 : ExpectedFreeMs(lane, backend, stamp, self)) + (loaded ? 0 : backend.LoadEstimate.TotalMilliseconds);
            var load = backend.Outstanding / backend.Options.Weight;
            var choice = new Choice(lane, location, free, loaded, waitMs, load, pinned is not null);
            if (best.Lane is null || Better(choice, best))
            {
                best = choice;
            }
        }

        return best;
    }

    private static bool Better(Choice a, Choice b)
    {
        if (a.WaitMs != b.WaitMs)
        {
            return a.WaitMs < b.WaitMs;
        }

        var (pa, pb) = (a.Lane!.Backend.Options.Priority, b.Lane!.Backend.Options.Priority);
        return pa != pb ? pa < pb : a.Load < b.Load;
    }

    /// <summary>Whether a backend besides <paramref name="current"/> could take the request (failover has somewhere to go).</summary>
    public static bool HasAlternative(AdmissionRequest request, Backend current)
    {
        var candidates = request.Model.Candidates;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i] != current && Eligible(candidates[i], request, candidates))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Eligible(Backend backend, AdmissionRequest request, IReadOnlyList<Backend> candidates)
    {
        if (!backend.IsRoutable || request.Excluded.Contains(backend))
        {
            return false;
        }

        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i] == backend)
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasFreeSlot(Lane lane, Backend backend) => backend.MaxConcurrency == 0 || lane.InFlight < backend.MaxConcurrency;

    /// <summary>When a full lane should have a slot for this request: its earliest finish, plus the turns of those ahead.</summary>
    private static double ExpectedFreeMs(Lane lane, Backend backend, long stamp, Waiter? self)
    {
        var service = double.IsNaN(lane.ServiceMs) ? s_defaultServiceTime.TotalMilliseconds : lane.ServiceMs;
        var earliest = service;
        foreach (var started in lane.Starts)
        {
            var elapsed = Stopwatch.GetElapsedTime(started, stamp).TotalMilliseconds;
            // A request running over its expected time is still expected to end soon, not already.
            earliest = Math.Min(earliest, Math.Max(service - elapsed, service * 0.1));
        }

        var ahead = self?.Lane == lane ? Math.Max(0, lane.Queued - 1) : lane.Queued;
        return earliest + (service * (ahead / Math.Max(1, backend.MaxConcurrency)));
    }

    /// <summary>The lane of a model on a backend, by the backend's own spelling of its name (catalog names are canonical).</summary>
    private Lane LaneOf(Backend backend, string upstreamName)
    {
        if (!_lanes.TryGetValue((backend, upstreamName), out var lane))
        {
            lane = new Lane(backend, ModelName.Key(upstreamName));
            _lanes[(backend, upstreamName)] = lane;
        }

        return lane;
    }

    private Admission Start(AdmissionRequest request, Choice choice)
    {
        var lane = choice.Lane!;
        var backend = lane.Backend;
        lane.InFlight++;
        var started = Stopwatch.GetTimestamp();
        if (backend.MaxConcurrency != 0)
        {
            // Only a lane that can be full needs its start times (for when it frees).
            lane.Starts.Add(started);
        }

        if (request.Session is { } session)
        {
            Stick(session, backend);
        }

        var reason = settings.ExplainRoutes ? Explain(choice, request) : null;
        return new Admission(this, lane, choice.Location, backend.Acquire(), started, choice.Loaded, reason);
    }

    /// <summary>Returns a slot: records how long the request took (when it succeeded) and starts whoever can go next.</summary>
    internal void Release(Admission admission, Lane lane, bool succeeded)
    {
        lock (_gate)
        {
            lane.InFlight--;
            lane.Starts.Remove(admission.Started);
            if (succeeded)
            {
                var ms = Stopwatch.GetElapsedTime(admission.Started).TotalMilliseconds;
                lane.ServiceMs = double.IsNaN(lane.ServiceMs) ? ms : lane.ServiceMs + (ServiceWeight * (ms - lane.ServiceMs));
            }

            DispatchWaiters();
        }
    }

    /// <summary>Starts waiting requests that can start, one per caller per round, until none can.</summary>
    private void DispatchWaiters()
    {
        var progress = true;
        while (progress && _waiting > 0)
        {
            progress = false;
            for (var t = 0; t < _turns.Count && !progress; t++)
            {
                var turn = (_nextTurn + t) % _turns.Count;
                for (var node = _queues[_turns[turn]].First; node is not null; node = node.Next)
                {
                    var waiter = node.Value;
                    var choice = Choose(waiter.Request, waiter);
                    if (choice.Lane is not null && choice.CanStart)
                    {
                        _nextTurn = turn + 1;
                        Remove(waiter);
                        waiter.Completion.TrySetResult(Start(waiter.Request, choice));
                        progress = true;
                        break;
                    }

                    if (choice.Lane is not null)
                    {
                        Retarget(waiter, choice);
                    }
                }
            }
        }
    }

    private Waiter Enqueue(AdmissionRequest request, Choice choice)
    {
        var waiter = new Waiter(request, time.GetUtcNow());
        if (!_queues.TryGetValue(request.Fairness, out var queue))
        {
            queue = new LinkedList<Waiter>();
            _queues[request.Fairness] = queue;
            _turns.Add(request.Fairness);
        }

        waiter.Node = queue.AddLast(waiter);
        _waiting++;
        Retarget(waiter, choice);
        return waiter;
    }

    private void Remove(Waiter waiter)
    {
        if (waiter.Node?.List is not { } queue)
        {
            return;
        }

        queue.Remove(waiter.Node);
        waiter.Node = null;
        _waiting--;
        if (waiter.Lane is { } lane)
        {
            lane.Queued--;
            waiter.Lane = null;
        }

        if (queue.Count == 0)
        {
            var turn = _turns.IndexOf(waiter.Request.Fairness);
            _turns.RemoveAt(turn);
            _queues.Remove(waiter.Request.Fairness);
            if (_nextTurn > turn)
            {
                _nextTurn--;
            }
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

    private void Stick(string session, Backend backend)
    {
        var now = time.GetUtcNow();
        if (_sessions.Count >= MaxSessions && !_sessions.ContainsKey(session))
        {
            foreach (var stale in _sessions.Where(s => now - s.Value.LastUsed > s_sessionIdle).Select(s => s.Key).ToArray())
            {
                _sessions.Remove(stale);
            }

            if (_sessions.Count >= MaxSessions)
            {
                _sessions.Remove(_sessions.MinBy(s => s.Value.LastUsed).Key);
            }
        }

        _sessions[session] = (backend, now);
    }

    private Rejection NoBackend(AdmissionRequest request)
    {
        var down = request.Model.Holders
            .Where(b => !request.Excluded.Contains(b))
            .Select(b => b.State == BackendState.Unhealthy && b.Health.LastError is { } error
                ? $"'{b.Name}' (unhealthy: {error})"
                : $"'{b.Name}' ({b.State.ToString().ToLowerInvariant()})")
            .ToArray();
        var message = down.Length == 0
            ? $"model '{request.Model.Name}' has no backend left to try"
            : $"model '{request.Model.Name}' is only on backends that are not available: {string.Join(", ", down)}";
        return new Rejection(RejectionKind.NoBackend, message, settings.HealthInterval);
    }

    private static TimeSpan RetryAfter(double waitMs) => TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(waitMs / 1000), 1, 3600));

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    private string Explain(Choice choice, AdmissionRequest request)
    {
        var backend = choice.Lane!.Backend;
        var slots = backend.MaxConcurrency == 0 ? "unlimited slots" : $"{choice.Lane.InFlight} of {backend.MaxConcurrency} slots busy";
        var state = choice.Loaded ? "model loaded" : $"cold load, about {Seconds(backend.LoadEstimate)} s";
        var why = choice.Sticky ? "session sticks to it" : choice.Free ? "free slot" : "waited for a slot";
        var retry = request.Excluded.Count > 0 ? $"; after {string.Join(", ", request.Excluded.Select(b => b.Name))} failed" : string.Empty;
        return $"{backend.Name}: {why}; {state}; {slots}; expected wait {Seconds(TimeSpan.FromMilliseconds(choice.WaitMs))} s; tier {backend.Options.Priority}{retry}";
    }

    /// <summary>One model on one backend: its slots in use, who waits for it, and how long its requests take.</summary>
    internal sealed class Lane(Backend backend, string modelKey)
    {
        public Backend Backend { get; } = backend;

        public string ModelKey { get; } = modelKey;

        public int InFlight { get; set; }

        public int Queued { get; set; }

        public double ServiceMs { get; set; } = double.NaN;

        /// <summary>Start timestamps of the requests in flight.</summary>
        public List<long> Starts { get; } = [];
    }

    private readonly record struct Choice(Lane? Lane, ModelLocation? Location, bool Free, bool Loaded, double WaitMs, double Load, bool Sticky)
    {
        public bool CanStart => Free && Lane is not null;
    }

    private sealed class Waiter(AdmissionRequest request, DateTimeOffset enqueued)
    {
        public AdmissionRequest Request { get; } = request;

        public DateTimeOffset Enqueued { get; } = enqueued;

        public TaskCompletionSource<AdmissionResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public Lane? Lane { get; set; }

        public double WaitMs { get; set; }
    }
}

/// <summary>Either a slot (<see cref="Admission"/>) or the reason there is none.</summary>
internal readonly record struct AdmissionResult(Admission? Admission, Rejection? Rejection)
{
    public static implicit operator AdmissionResult(Admission admission) => new(admission, null);

    public static implicit operator AdmissionResult(Rejection rejection) => new(null, rejection);
}

/// <summary>
/// A slot on one backend for one request. Dispose it when the answer is over; call <see cref="Succeeded"/> first
/// when it went well, so the model's service time is learnt.
/// </summary>
internal sealed class Admission : IDisposable
{
    private readonly SlotScheduler _scheduler;
    private readonly SlotScheduler.Lane _lane;
    private Backend.Lease _lease;
    private bool _succeeded;
    private int _disposed;

    internal Admission(SlotScheduler scheduler, SlotScheduler.Lane lane, ModelLocation? location, Backend.Lease lease, long started, bool wasLoaded, string? reason)
    {
        _scheduler = scheduler;
        _lane = lane;
        _lease = lease;
        Location = location!;
        Started = started;
        WasLoaded = wasLoaded;
        Reason = reason;
    }

    public Backend Backend => _lane.Backend;

    /// <summary>Where the model lives on the chosen backend (its name there).</summary>
    public ModelLocation Location { get; }

    /// <summary>The <see cref="ModelName.Key"/> of the model's name on the chosen backend.</summary>
    public string ModelKey => _lane.ModelKey;

    /// <summary>Whether the model was in memory (or in use) on the backend when the request was sent.</summary>
    public bool WasLoaded { get; }

    /// <summary>Why this backend was chosen, when routes are explained (<c>--explain-routes</c>).</summary>
    public string? Reason { get; }

    internal long Started { get; }

    /// <summary>Marks the request as completed normally; its duration then trains the service-time estimate.</summary>
    public void Succeeded() => _succeeded = true;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _lease.Dispose();
            _scheduler.Release(this, _lane, _succeeded);
        }
    }
}
