using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Corral.Simulator.Models;

/// <summary>Uploaded blobs: only their digests and lengths are kept, never their bytes.</summary>
internal sealed partial class BlobStore
{
    private readonly ConcurrentDictionary<string, long> _blobs = new(StringComparer.Ordinal);

    /// <summary>Ollama's GetBlobsPath pattern: <c>sha256:</c> or <c>sha256-</c> plus 64 hex characters.</summary>
    public static bool IsValidDigest(string digest) => DigestPattern().IsMatch(digest);

    public bool Contains(string digest) => _blobs.ContainsKey(Key(digest));

    public void Add(string digest, long length) => _blobs[Key(digest)] = length;

    private static string Key(string digest) => digest[7..].ToLowerInvariant();

    [GeneratedRegex("^sha256[:-][0-9a-fA-F]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestPattern();
}
