using Corral.Catalog;

namespace Corral.Fleet;

/// <summary>
/// The routing choice of the fleet scheduler: which backend holding the model should serve a request, and how
/// long the request should expect to wait there. Called under the scheduler's lock; chosen by <see cref="Name"/>.
/// </summary>
internal interface IBackendChoice
{
    /// <summary>The name this policy is chosen by.</summary>
    string Name { get; }

    /// <summary>
    /// The best lane for <paramref name="request"/> among its model's eligible holders (only
    /// <paramref name="pinned"/> when a session sticks to it); a choice without a lane when none is eligible.
    /// <paramref name="waiting"/> is the lane the request already waits for, if it waits.
    /// </summary>
    Choice Choose(AdmissionRequest request, ILaneSource lanes, Backend? pinned, Lane? waiting);

    /// <summary>Why <paramref name="choice"/> was made, in words (<c>--explain-routes</c>).</summary>
    string Explain(Choice choice, AdmissionRequest request);
}

/// <summary>The scheduler's lanes, by backend and the backend's own name of the model.</summary>
internal interface ILaneSource
{
    Lane LaneOf(Backend backend, string upstreamName);
}

/// <summary>A routing choice: the lane, whether it can start now, and the wait expected there.</summary>
internal readonly record struct Choice(Lane? Lane, ModelLocation? Location, bool Free, bool Loaded, double WaitMs, double Load, bool Sticky)
{
    public bool CanStart => Free && Lane is not null;
}
