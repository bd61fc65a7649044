using System.Security.Cryptography;

namespace Corral.OpenAi;

/// <summary>Response ids in OpenAI's style (<c>chatcmpl-…</c>, <c>cmpl-…</c>). Ollama uses a random number below 999; these do not collide.</summary>
internal static class OpenAiIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public static string New(string prefix) => prefix + RandomNumberGenerator.GetString(Alphabet, 24);
}
