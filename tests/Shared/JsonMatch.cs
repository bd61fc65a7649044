using System.Text.Json;

namespace Corral.Testing;

/// <summary>
/// Compares JSON the way the fixtures define it: every key must match exactly, no extra keys are allowed,
/// numbers compare by value (1.0 equals 1), and the string "&lt;any&gt;" in the expectation matches any value.
/// </summary>
public static class JsonMatch
{
    public static IReadOnlyList<string> Differences(JsonElement expected, JsonElement actual)
    {
        var differences = new List<string>();
        Compare(expected, actual, "$", differences);
        return differences;
    }

    public static void ShouldMatch(JsonElement expected, JsonElement actual, string because = "")
    {
        var differences = Differences(expected, actual);
        differences.Should().BeEmpty($"the JSON should match the expectation {because}; actual: {actual.GetRawText()}");
    }

    private static void Compare(JsonElement expected, JsonElement actual, string path, List<string> differences)
    {
        if (expected.ValueKind == JsonValueKind.String && expected.GetString() == "<any>")
        {
            return;
        }

        if (expected.ValueKind == JsonValueKind.Number && actual.ValueKind == JsonValueKind.Number)
        {
            if (expected.GetDecimal() != actual.GetDecimal())
            {
                differences.Add($"{path}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
            }

            return;
        }

        if (expected.ValueKind != actual.ValueKind)
        {
            differences.Add($"{path}: expected {expected.ValueKind} {Short(expected)}, got {actual.ValueKind} {Short(actual)}");
            return;
        }

        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var actualNames = actual.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                foreach (var property in expected.EnumerateObject())
                {
                    if (!actual.TryGetProperty(property.Name, out var value))
                    {
                        differences.Add($"{path}.{property.Name}: missing");
                        continue;
                    }

                    actualNames.Remove(property.Name);
                    Compare(property.Value, value, $"{path}.{property.Name}", differences);
                }

                foreach (var extra in actualNames)
                {
                    differences.Add($"{path}.{extra}: not expected");
                }

                break;
            case JsonValueKind.Array:
                var e = expected.EnumerateArray().ToArray();
                var a = actual.EnumerateArray().ToArray();
                if (e.Length != a.Length)
                {
                    differences.Add($"{path}: expected {e.Length} items, got {a.Length}");
                    return;
                }

                for (var i = 0; i < e.Length; i++)
                {
                    Compare(e[i], a[i], $"{path}[{i}]", differences);
                }

                break;
            case JsonValueKind.String:
                if (expected.GetString() != actual.GetString())
                {
                    differences.Add($"{path}: expected {expected.GetRawText()}, got {actual.GetRawText()}");
                }

                break;
        }
    }

    private static string Short(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length > 80 ? text[..80] + "…" : text;
    }
}
