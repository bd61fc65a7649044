namespace Corral.Fleet;

/// <summary>Chooses the backend that serves one inference request among those that hold the model.</summary>
internal interface IRoutingPolicy
{
    /// <summary>The name this policy is chosen by in configuration.</summary>
    string Name { get; }

    /// <summary>Picks one of <paramref name="candidates"/> (never empty).</summary>
    Backend Pick(IReadOnlyList<Backend> candidates);
}
