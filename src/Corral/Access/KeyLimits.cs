namespace Corral.Access;

/// <summary>
/// How much a key may use; null: no limit. Tokens are prompt plus completion, charged when the answer ends.
/// </summary>
internal sealed record KeyLimits(int? RequestsPerMinute, long? TokensPerMinute, long? TokensPerDay, int? MaxConcurrency)
{
    public static KeyLimits None { get; } = new(null, null, null, null);

    /// <summary>Whether any rate (requests or tokens over time) is limited.</summary>
    public bool HasRates => RequestsPerMinute is not null || TokensPerMinute is not null || TokensPerDay is not null;

    public bool IsNone => !HasRates && MaxConcurrency is null;
}
