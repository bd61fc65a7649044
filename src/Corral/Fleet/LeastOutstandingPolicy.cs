namespace Corral.Fleet;

/// <summary>
/// Sends a request to the backend with the fewest outstanding requests relative to its weight.
/// Ties rotate, so an idle fleet still spreads its load instead of always favouring the first backend.
/// </summary>
internal sealed class LeastOutstandingPolicy : IRoutingPolicy
{
    private uint _rotation;

    public string Name => "least-outstanding";

    public Backend Pick(IReadOnlyList<Backend> candidates)
    {
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        var start = (int)(Interlocked.Increment(ref _rotation) % (uint)candidates.Count);
        Backend best = candidates[start];
        var bestLoad = Load(best);
        for (var i = 1; i < candidates.Count; i++)
        {
            var candidate = candidates[(start + i) % candidates.Count];
            var load = Load(candidate);
            if (load < bestLoad)
            {
                best = candidate;
                bestLoad = load;
            }
        }

        return best;
    }

    private static double Load(Backend backend) => backend.Outstanding / backend.Options.Weight;
}
