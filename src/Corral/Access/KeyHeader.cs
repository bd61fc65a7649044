namespace Corral.Access;

/// <summary>
/// Endpoint metadata: the endpoint also takes the key in this header when no <c>Authorization: Bearer</c> is sent,
/// as Anthropic's clients send theirs in <c>x-api-key</c>. The key is the same Corral key, checked the same way.
/// </summary>
internal sealed record KeyHeader(string Name)
{
    /// <summary>Anthropic's <c>x-api-key</c>.</summary>
    public static KeyHeader AnthropicApiKey { get; } = new("x-api-key");
}
