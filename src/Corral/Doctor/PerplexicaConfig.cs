namespace Corral.Doctor;

/// <summary>
/// Perplexica's <c>config.toml</c>, mounted into its container (<c>./config.toml:/home/perplexica/config.toml</c>,
/// or a folder holding it), where its Ollama URL is <c>API_URL</c> under <c>[MODELS.OLLAMA]</c>.
/// </summary>
internal static class PerplexicaConfig
{
    private const string FileName = "config.toml";
    private const string Section = "[MODELS.OLLAMA]";

    /// <summary>The host-side file of a mount that is a config.toml, or a folder holding one; null when none is.</summary>
    public static string? Find(IReadOnlyList<ContainerMount> mounts)
    {
        foreach (var mount in mounts.Where(m => m.Source.Length > 0))
        {
            if (mount.Destination.EndsWith("/" + FileName, StringComparison.Ordinal) && File.Exists(mount.Source))
            {
                return mount.Source;
            }

            if (Directory.Exists(mount.Source) && Path.Combine(mount.Source, FileName) is var inside && File.Exists(inside))
            {
                return inside;
            }
        }

        return null;
    }

    /// <summary>The <c>API_URL</c> of the <c>[MODELS.OLLAMA]</c> table, or null when it is not there or empty.</summary>
    public static string? ApiUrl(string toml)
    {
        var inSection = false;
        foreach (var raw in toml.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('['))
            {
                inSection = line.StartsWith(Section, StringComparison.Ordinal);
            }
            else if (inSection && line.StartsWith("API_URL", StringComparison.Ordinal) && line.IndexOf('=', StringComparison.Ordinal) is var equals and > 0
                && line[7..equals].Trim().Length == 0)
            {
                // API_URL = "http://host.docker.internal:11434" # a comment
                var value = line[(equals + 1)..].Trim();
                var end = value.Length > 1 && value[0] == '"' ? value.IndexOf('"', 1) : -1;
                var url = end > 0 ? value[1..end] : value.Split('#')[0].Trim();
                return url.Length > 0 ? url : null;
            }
        }

        return null;
    }

    /// <summary>
    /// A command that sets that <c>API_URL</c> to <paramref name="url"/> in <paramref name="file"/>: <c>sed -i.bak</c>,
    /// which GNU sed (Linux) and BSD sed (macOS, where Docker Desktop's bind mounts are edited) both read the same
    /// way, leaving the old file beside it as <c>.bak</c>.
    /// </summary>
    public static string Edit(string file, string url)
    {
        var replacement = url.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal).Replace("&", "\\&", StringComparison.Ordinal);
        var script = $"/^\\[MODELS\\.OLLAMA\\]/,/^\\[/ s|^API_URL *=.*|API_URL = \"{replacement}\"|";
        return $"sed -i.bak {ContainerRunCommand.Quote(script)} {ContainerRunCommand.Quote(file)}";
    }
}
