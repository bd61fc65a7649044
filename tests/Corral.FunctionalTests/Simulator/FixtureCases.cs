using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

/// <summary>The Ollama conformance cases under shared/fixtures/ollama (or <c>CORRAL_FIXTURES</c>).</summary>
internal static class FixtureCases
{
    public static string Directory { get; } = Locate();

    public static IEnumerable<string> Native() =>
        System.IO.Directory.GetFiles(Directory, "n*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static JsonElement Load(string fileName)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, fileName)));
        return document.RootElement.Clone();
    }

    private static string Locate()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("CORRAL_FIXTURES");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            foreach (var candidate in new[] { fromEnvironment, Path.Combine(fromEnvironment, "ollama"), Path.Combine(fromEnvironment, "shared", "fixtures", "ollama") })
            {
                if (File.Exists(Path.Combine(candidate, "README.md")) && System.IO.Directory.GetFiles(candidate, "n*.json").Length > 0)
                {
                    return candidate;
                }
            }
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures", "ollama");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No shared/fixtures/ollama above {AppContext.BaseDirectory}; set CORRAL_FIXTURES.");
    }
}
