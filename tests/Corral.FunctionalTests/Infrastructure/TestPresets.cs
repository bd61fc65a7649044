using Corral.Catalog;
using Corral.Hosting;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>Presets written as the configuration file writes them, read by the file's own reader.</summary>
internal static class TestPresets
{
    public static IReadOnlyList<ModelPreset> Parse(params string[] definitions)
    {
        if (definitions.Length == 0)
        {
            return [];
        }

        var problems = new List<string>();
        var presets = ConfigFile.Parse($$"""{"presets":[{{string.Join(",", definitions)}}]}""", "corral.json", problems).Presets;
        problems.Should().BeEmpty();
        return presets;
    }
}
