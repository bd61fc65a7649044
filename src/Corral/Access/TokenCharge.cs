using Corral.Usage;

namespace Corral.Access;

/// <summary>Charges each finished request's tokens (prompt plus completion) to its key's token rates.</summary>
internal sealed class TokenCharge(KeyRing keys) : IUsageObserver
{
    public void Observe(UsageRecord record)
    {
        var tokens = (long)record.PromptTokens + record.CompletionTokens;
        if (tokens > 0 && record.KeyId is { } id)
        {
            keys.StateOf(id)?.Charge(tokens);
        }
    }
}
