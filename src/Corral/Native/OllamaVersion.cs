namespace Corral.Native;

/// <summary>
/// Compares Ollama version strings (<c>0.5.1</c>, <c>v0.12.0-rc1</c>) numerically; as in semantic versioning,
/// a pre-release (<c>-rc1</c>) comes before its release.
/// </summary>
internal static class OllamaVersion
{
    public static int Compare(string a, string b)
    {
        var (pa, preA) = Parse(a);
        var (pb, preB) = Parse(b);
        for (var i = 0; i < Math.Max(pa.Length, pb.Length); i++)
        {
            var x = i < pa.Length ? pa[i] : 0;
            var y = i < pb.Length ? pb[i] : 0;
            if (x != y)
            {
                return x.CompareTo(y);
            }
        }

        return (preA, preB) switch
        {
            (null, null) => 0,
            (null, _) => 1,
            (_, null) => -1,
            _ => string.CompareOrdinal(preA, preB),
        };
    }

    private static (int[] Numbers, string? PreRelease) Parse(string version)
    {
        var core = version.Trim().TrimStart('v', 'V');
        var build = core.IndexOf('+', StringComparison.Ordinal);
        if (build >= 0)
        {
            core = core[..build];
        }

        string? preRelease = null;
        var dash = core.IndexOfAny(['-', ' ']);
        if (dash >= 0)
        {
            preRelease = core[(dash + 1)..];
            core = core[..dash];
        }

        return (core.Split('.').Select(p => int.TryParse(p, out var n) ? n : 0).ToArray(), preRelease);
    }
}
