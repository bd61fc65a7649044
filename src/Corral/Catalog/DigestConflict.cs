namespace Corral.Catalog;

/// <summary>The same model name on several backends with different digests: not the same model.</summary>
internal sealed record DigestConflict(string Model, IReadOnlyList<(string Backend, string? Digest)> Holders);
