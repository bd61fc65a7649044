namespace Corral.Native;

/// <summary>Compares Ollama version strings (<c>0.5.1</c>, <c>v0.12.0-rc1</c>) numerically.</summary>
internal static class OllamaVersion
{
    public static int Compare(string a, string b)
    {
        var pa = Parts(a);
        var pb = Parts(b);
        for (var i = 0; i < Math.Max(pa.Length, pb.Length); i++)
        {
            var x = i < pa.Length ? pa[i] : 0;
            var y = i < pb.Length ? pb[i] : 0;
            if (x != y)
            {
                return x.CompareTo(y);
            }
        }

        return 0;
    }

    private static int[] Parts(string version)
    {
        var core = version.Trim().TrimStart('v', 'V');
        var dash = core.IndexOfAny(['-', '+', ' ']);
        if (dash >= 0)
        {
            core = core[..dash];
        }

        return core.Split('.').Select(p => int.TryParse(p, out var n) ? n : 0).ToArray();
    }
}
