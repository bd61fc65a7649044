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
        var files = Directory.GetFiles(FixtureFolder.Path, prefix + "_*.json");
        files.Should().ContainSingle($"one fixture starts with {prefix}");
        return Parse(File.ReadAllText(files[0]));
    }

    /// <summary>
    /// Fails unless <paramref name="actual"/> matches <paramref name="expected"/> as the fixtures define it: every
    /// key matches, no extra keys, numbers compare by value (1.0 equals 1), and "&lt;any&gt;" matches any value.
    /// </summary>
    public static void ShouldMatch(JsonElement actual, JsonElement expected) => JsonMatch.ShouldMatch(expected, actual);
}
