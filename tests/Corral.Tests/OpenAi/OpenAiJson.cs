using System.Buffers;
using System.Text;
using System.Text.Json;
using Corral.OpenAi;

namespace Corral.Tests.OpenAi;

/// <summary>
/// What the OpenAI-surface tests share: parsing what the code under test wrote, splitting SSE output into its
/// frames, loading the conformance cases in shared/fixtures/ollama and comparing JSON the way those cases define it.
/// </summary>
internal static class OpenAiJson
{
    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static JsonElement Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        return document.RootElement.Clone();
    }

    /// <summary>The native request body of a successful translation.</summary>
    public static JsonElement Body(Translation translation)
    {
        translation.Error.Should().BeNull();
        translation.Body.Should().NotBeNull();
        return Parse(translation.Body!);
    }

    /// <summary>Runs a writer over a fresh <see cref="Utf8JsonWriter"/> and parses what it wrote.</summary>
    public static JsonElement Written(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return Parse(buffer.WrittenSpan);
    }

    /// <summary>A JSON value in its compact one-line form, as a native NDJSON line carries it.</summary>
    public static byte[] Line(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            value.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The payloads of the <c>data: …\n\n</c> frames in an SSE body; fails when the body holds anything else.
    /// </summary>
    public static IReadOnlyList<string> Frames(ReadOnlySpan<byte> sse)
    {
        var text = Encoding.UTF8.GetString(sse);
        text.Should().EndWith("\n\n", "every SSE frame ends with a blank line");
        var frames = new List<string>();
        foreach (var frame in text[..^2].Split("\n\n"))
        {
            frame.Should().StartWith("data: ");
            frame.Should().NotContain("\n", "a frame is one data line");
            frames.Add(frame["data: ".Length..]);
        }

        return frames;
    }

    /// <summary>The frames of an SSE body that are JSON objects (everything but <c>[DONE]</c>).</summary>
    public static IReadOnlyList<JsonElement> Chunks(ReadOnlySpan<byte> sse)
    {
        var chunks = new List<JsonElement>();
        foreach (var frame in Frames(sse))
        {
            if (frame != "[DONE]")
            {
                chunks.Add(Parse(frame));
            }
        }

        return chunks;
    }

    /// <summary>A conformance case from shared/fixtures/ollama, by the start of its file name ("o02").</summary>
    public static JsonElement Fixture(string prefix)
    {
        var files = Directory.GetFiles(FixtureFolder(), prefix + "_*.json");
        files.Should().ContainSingle($"one fixture starts with {prefix}");
        return Parse(File.ReadAllText(files[0]));
    }

    /// <summary>
    /// Fails unless <paramref name="actual"/> matches <paramref name="expected"/> as the fixtures define it: every
    /// key matches, no extra keys, numbers compare by value (1.0 equals 1), and "&lt;any&gt;" matches any value.
    /// </summary>
    public static void ShouldMatch(JsonElement actual, JsonElement expected)
    {
        var differences = new List<string>();
        Compare(expected, actual, "$", differences);
        differences.Should().BeEmpty($"the JSON should match the expectation; actual: {actual.GetRawText()}");
    }

    private static string FixtureFolder()
    {
        if (Environment.GetEnvironmentVariable("CORRAL_FIXTURES") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "fixtures", "ollama");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("shared/fixtures/ollama was not found above " + AppContext.BaseDirectory + "; set CORRAL_FIXTURES");
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
            differences.Add($"{path}: expected {expected.ValueKind} {expected.GetRawText()}, got {actual.ValueKind} {actual.GetRawText()}");
            return;
        }

        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var unseen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in actual.EnumerateObject())
                {
                    unseen.Add(property.Name);
                }

                foreach (var property in expected.EnumerateObject())
                {
                    if (!actual.TryGetProperty(property.Name, out var value))
                    {
                        differences.Add($"{path}.{property.Name}: missing");
                        continue;
                    }

                    unseen.Remove(property.Name);
                    Compare(property.Value, value, $"{path}.{property.Name}", differences);
                }

                foreach (var extra in unseen)
                {
                    differences.Add($"{path}.{extra}: not expected");
                }

                break;
            case JsonValueKind.Array:
                if (expected.GetArrayLength() != actual.GetArrayLength())
                {
                    differences.Add($"{path}: expected {expected.GetArrayLength()} items, got {actual.GetArrayLength()}");
                    return;
                }

                for (var i = 0; i < expected.GetArrayLength(); i++)
                {
                    Compare(expected[i], actual[i], $"{path}[{i}]", differences);
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
}
