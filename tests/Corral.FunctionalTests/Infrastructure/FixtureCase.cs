using System.Text.Json;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>One conformance case from shared/fixtures/ollama (see its README for the format).</summary>
public sealed class FixtureCase
{
    private FixtureCase(string file, JsonElement root)
    {
        File = file;
        Root = root;
    }

    public string File { get; }

    public JsonElement Root { get; }

    public string Name => Root.GetProperty("name").GetString()!;

    public JsonElement Request => Root.GetProperty("request");

    public string Method => Request.GetProperty("method").GetString()!;

    public string Path => Request.GetProperty("path").GetString()!;

    public JsonElement? RequestBody => Request.TryGetProperty("body", out var b) && b.ValueKind != JsonValueKind.Null ? b : null;

    public JsonElement? Upstream => Root.TryGetProperty("upstream_ollama_response", out var u) && u.ValueKind != JsonValueKind.Null ? u : null;

    public JsonElement? UpstreamRequest => Root.TryGetProperty("upstream_request", out var u) && u.ValueKind != JsonValueKind.Null ? u : null;

    public JsonElement Expected => Root.GetProperty("expected");

    /// <summary>The model the request names, if any.</summary>
    public string? Model => RequestBody is { } body && body.ValueKind == JsonValueKind.Object
        ? (body.TryGetProperty("model", out var m) ? m.GetString() : body.TryGetProperty("name", out var n) ? n.GetString() : null)
        : null;

    /// <summary>The client's request of this case, ready to send.</summary>
    public HttpRequestMessage ToRequest()
    {
        var request = new HttpRequestMessage(new HttpMethod(Method), Path);
        if (RequestBody is { } body)
        {
            request.Content = new StringContent(body.GetRawText(), System.Text.Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>Loads one case by its name (the file name without extension).</summary>
    public static FixtureCase Named(string prefix, string name) => Load(prefix).Single(f => f.ToString() == name);

    public override string ToString() => System.IO.Path.GetFileNameWithoutExtension(File);

    /// <summary>Every case whose file name starts with <paramref name="prefix"/> ("n" native, "o" OpenAI).</summary>
    public static IEnumerable<FixtureCase> Load(string prefix)
    {
        var folder = FixtureFolder.Path;
        foreach (var file in Directory.GetFiles(folder, prefix + "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(System.IO.File.ReadAllText(file));
            yield return new FixtureCase(file, document.RootElement.Clone());
        }
    }
}
