namespace Corral.Testing;

/// <summary>
/// Where the Ollama conformance fixtures are: the shared cases (CORRAL_FIXTURES, else shared/fixtures/ollama
/// above the tests) and Corral's own cases in the repository (tests/Fixtures/ollama).
/// </summary>
public static class FixtureFolder
{
    /// <summary>The shared, read-only cases.</summary>
    public static string Path { get; } = LocateShared();

    /// <summary>Corral's own cases, written from Ollama's source in the shared format (see its README).</summary>
    public static string RepositoryPath { get; } = LocateAbove(System.IO.Path.Combine("tests", "Fixtures", "ollama"))
        ?? throw new DirectoryNotFoundException("tests/Fixtures/ollama was not found above " + AppContext.BaseDirectory);

    /// <summary>Both folders, shared first.</summary>
    public static IReadOnlyList<string> All { get; } = [Path, RepositoryPath];

    private static string LocateShared()
    {
        if (Environment.GetEnvironmentVariable("CORRAL_FIXTURES") is { Length: > 0 } configured)
        {
            return configured;
        }

        return LocateAbove(System.IO.Path.Combine("shared", "fixtures", "ollama"))
            ?? throw new DirectoryNotFoundException("shared/fixtures/ollama was not found above " + AppContext.BaseDirectory + "; set CORRAL_FIXTURES");
    }

    private static string? LocateAbove(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, relative);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
