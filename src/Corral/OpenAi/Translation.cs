namespace Corral.OpenAi;

/// <summary>An OpenAI request turned into a native one, or the 400 message saying why it cannot be.</summary>
internal readonly record struct Translation(byte[]? Body, bool Stream, bool IncludeUsage, string? Error)
{
    public static Translation Invalid(string error) => new(null, false, false, error);
}
