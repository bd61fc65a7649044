namespace Corral.Testing;

/// <summary>Where the Ollama conformance fixtures are: CORRAL_FIXTURES, else shared/fixtures/ollama above the tests.</summary>
public static class FixtureFolder
{
    public static string Path { get; } = Locate();

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("CORRAL_FIXTURES") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "fixtures", "ollama");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("shared/fixtures/ollama was not found above " + AppContext.BaseDirectory + "; set CORRAL_FIXTURES");
    }
}
