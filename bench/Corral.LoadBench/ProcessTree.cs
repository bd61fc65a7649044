namespace Corral.LoadBench;

/// <summary>Processes below a process, read from <c>/proc</c>: nginx's workers are children of its master.</summary>
internal static class ProcessTree
{
    /// <summary><paramref name="pid"/> and every process below it, parents first.</summary>
    public static IReadOnlyList<int> WithDescendants(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), out var id) && ParentOf(id) is { } parent)
            {
                if (!children.TryGetValue(parent, out var list))
                {
                    children[parent] = list = [];
                }

                list.Add(id);
            }
        }

        var tree = new List<int> { pid };
        for (var i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out var below))
            {
                tree.AddRange(below.Order());
            }
        }

        return tree;
    }

    /// <summary>The fourth field of <c>/proc/PID/stat</c>; the second (the command) may hold spaces and parentheses, so count from the last ')'.</summary>
    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.TryParse(fields[1], out var parent) ? parent : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            // Gone since the folder was listed, or not readable: not one of ours.
            return null;
        }
    }
}
