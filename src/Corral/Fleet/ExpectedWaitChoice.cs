using Corral.Hosting;

namespace Corral.Fleet;

/// <summary>
/// Routes by expected wait. Each eligible holder of the model gets one: nothing for a loaded model with a free
/// slot; the backend's observed load time for a cold one; for a full one, the time until its earliest running
/// request should end (from the observed service time) plus the turns of those already waiting for it. The
/// shortest wait wins, then the better priority tier, then the lighter load per weight; equal choices rotate.
/// So a loaded backend is preferred, a cold one is used when it is free, and a loaded one that frees soon still
/// beats a long cold load. Backends of a later priority tier count only when no earlier tier has a free slot.
/// </summary>
internal sealed class ExpectedWaitChoice(TimeProvider time) : IBackendChoice
{
    /// <summary>Assumed duration of a request on a model before one was seen to finish.</summary>
    private static readonly TimeSpan s_defaultServiceTime = TimeSpan.FromSeconds(10);

    private uint _rotation;

    public string Name => "expected-wait";

    public Choice Choose(AdmissionRequest request, ILaneSource lanes, Backend? pinned, Lane? waiting)
    {
        // The clocks are read only when a lane needs them (a full lane's wait, an idle lane's loaded model).
        DateTimeOffset? now = null;
        long stamp = 0;
        var locations = request.Model.Locations;

        // The best tier that can start the request now bounds which tiers are considered.
        var bestFreeTier = int.MaxValue;
        for (var i = 0; i < locations.Count; i++)
        {
            var backend = locations[i].Backend;
            if ((pinned is null || backend == pinned) && request.IsEligible(backend) && backend.Options.Priority < bestFreeTier
                && lanes.LaneOf(backend, locations[i].UpstreamName).HasFreeSlot)
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
            if ((pinned is not null && backend != pinned) || !request.IsEligible(backend) || backend.Options.Priority > bestFreeTier)
            {
                continue;
            }

            var lane = lanes.LaneOf(backend, location.UpstreamName);
            var free = lane.HasFreeSlot;
            var loaded = lane.InFlight > 0 || backend.Loaded.IsLoaded(lane.ModelKey, now ??= time.GetUtcNow());
            var waitMs = (free ? 0 : ExpectedFreeMs(lane, stamp = stamp != 0 ? stamp : time.GetTimestamp(), waiting)) + (loaded ? 0 : backend.LoadEstimate.TotalMilliseconds);
            var choice = new Choice(lane, location, free, loaded, waitMs, backend.Outstanding / backend.Options.Weight, pinned is not null);
            if (best.Lane is null || Better(choice, best))
            {
                best = choice;
            }
        }

        return best;
    }

    public string Explain(Choice choice, AdmissionRequest request)
    {
        var lane = choice.Lane!;
        var backend = lane.Backend;
        var slots = backend.MaxConcurrency == 0 ? "unlimited slots" : $"{lane.InFlight} of {backend.MaxConcurrency} slots busy";
        var state = choice.Loaded ? "model loaded" : $"cold load, about {Durations.Seconds(backend.LoadEstimate)} s";
        var why = choice.Sticky ? "session sticks to it" : choice.Free ? "free slot" : "waited for a slot";
        var retry = request.Excluded.Count > 0 ? $"; after {string.Join(", ", request.Excluded.Select(b => b.Name))} failed" : string.Empty;
        return $"{backend.Name}: {why}; {state}; {slots}; expected wait {Durations.Seconds(TimeSpan.FromMilliseconds(choice.WaitMs))} s; tier {backend.Options.Priority}{retry}";
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

    /// <summary>When a full lane should have a slot for this request: its earliest finish, plus the turns of those ahead.</summary>
    private double ExpectedFreeMs(Lane lane, long stamp, Lane? waiting)
    {
        var service = double.IsNaN(lane.ServiceMs) ? s_defaultServiceTime.TotalMilliseconds : lane.ServiceMs;
        var earliest = service;
        foreach (var started in lane.Starts)
        {
            var elapsed = time.GetElapsedTime(started, stamp).TotalMilliseconds;
            // A request running over its expected time is still expected to end soon, not already.
            earliest = Math.Min(earliest, Math.Max(service - elapsed, service * 0.1));
        }

        var ahead = waiting == lane ? Math.Max(0, lane.Queued - 1) : lane.Queued;
        return earliest + (service * (ahead / Math.Max(1, lane.Backend.MaxConcurrency)));
    }

}
