namespace Corral.Testing;

/// <summary>The repository's <c>deploy/</c> folder, found above the tests' build output.</summary>
internal static class DeployFolder
{
    public static string Path { get; } = Locate();

    /// <summary>The text of a file in <c>deploy/</c>.</summary>
    public static string Read(string file) => File.ReadAllText(System.IO.Path.Combine(Path, file));

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Corral.slnx")))
            {
                return System.IO.Path.Combine(dir.FullName, "deploy");
            }
        }

        throw new DirectoryNotFoundException("the repository (Corral.slnx) was not found above " + AppContext.BaseDirectory);
    }
}
