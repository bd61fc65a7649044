namespace Corral.Cli;

/// <summary>
/// The compose files of <c>deploy/</c> for the three topologies of a self-hosted stack, embedded in the assembly as
/// they are in the repository, so that <c>corral doctor --compose</c> prints the very files (a test compares them).
/// </summary>
internal static class ComposeTopologies
{
    /// <summary>Each file's name in <c>deploy/</c> and the topology it is for, in the order they are printed.</summary>
    public static IReadOnlyList<(string File, string Topology)> Files { get; } =
    [
        ("compose.same-stack.yaml", "Ollama, Corral and Open WebUI in one compose project"),
        ("compose.host-ollama.yaml", "Ollama on this host or in another compose project"),
        ("compose.podman-wsl2.yaml", "Podman on Windows (WSL2), Ollama on Windows"),
    ];

    /// <summary>The text of one of <see cref="Files"/>, as embedded.</summary>
    public static string Text(string file)
    {
        using var stream = typeof(ComposeTopologies).Assembly.GetManifestResourceStream("deploy/" + file)
            ?? throw new InvalidOperationException($"deploy/{file} is not embedded in Corral (see Corral.csproj)");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Every file under a heading line naming it, a blank line between two.</summary>
    public static void Write(TextWriter output)
    {
        for (var i = 0; i < Files.Count; i++)
        {
            var (file, topology) = Files[i];
            output.Write($"{(i == 0 ? string.Empty : "\n")}# ==== deploy/{file}: {topology} ====\n{Text(file)}");
        }
    }
}
