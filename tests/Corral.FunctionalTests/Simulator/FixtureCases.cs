using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

/// <summary>The Ollama conformance cases under shared/fixtures/ollama (or <c>CORRAL_FIXTURES</c>).</summary>
internal static class FixtureCases
{
    public static string Directory { get; } = FixtureFolder.Path;

    public static IEnumerable<string> Native() =>
        System.IO.Directory.GetFiles(Directory, "n*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static JsonElement Load(string fileName)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, fileName)));
        return document.RootElement.Clone();
    }
}
