using System.Text.Json;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>One conformance case from shared/fixtures/ollama or tests/Fixtures/ollama (see their READMEs for the format).</summary>
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

    /// <summary>The form fields of a multipart/form-data request: strings, or files as <c>{filename, content_type, bytes_base64}</c>.</summary>
    public JsonElement? Multipart => Request.TryGetProperty("multipart", out var m) && m.ValueKind == JsonValueKind.Object ? m : null;

    public JsonElement? Upstream => Root.TryGetProperty("upstream_ollama_response", out var u) && u.ValueKind != JsonValueKind.Null ? u : null;

    public JsonElement? UpstreamRequest => Root.TryGetProperty("upstream_request", out var u) && u.ValueKind != JsonValueKind.Null ? u : null;

    public JsonElement Expected => Root.GetProperty("expected");

    /// <summary>The model the request names, if any.</summary>
    public string? Model => (RequestBody ?? Multipart) is { } body && body.ValueKind == JsonValueKind.Object
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
        else if (Multipart is { } form)
        {
            request.Content = ToMultipart(form);
        }

        return request;
    }

    /// <summary>The multipart/form-data body of a case's <c>multipart</c> fields, in their order.</summary>
    public static MultipartFormDataContent ToMultipart(JsonElement form)
    {
        var content = new MultipartFormDataContent();
        foreach (var field in form.EnumerateObject())
        {
            if (field.Value.ValueKind == JsonValueKind.Object)
            {
                var file = new ByteArrayContent(Convert.FromBase64String(field.Value.GetProperty("bytes_base64").GetString()!));
                file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(field.Value.GetProperty("content_type").GetString()!);
                content.Add(file, field.Name, field.Value.GetProperty("filename").GetString()!);
            }
            else
            {
                content.Add(new StringContent(field.Value.GetString()!), field.Name);
            }
        }

        return content;
    }

    /// <summary>Loads one case by its name (the file name without extension).</summary>
    public static FixtureCase Named(string prefix, string name) => Load(prefix).Single(f => f.ToString() == name);

    public override string ToString() => System.IO.Path.GetFileNameWithoutExtension(File);

    /// <summary>
    /// Every case whose file name starts with <paramref name="prefix"/> ("n" native, "o" OpenAI, "a" Anthropic
    /// Messages, "r" Responses, "t" transcriptions), from the shared folder and the repository's, by file name.
    /// </summary>
    public static IEnumerable<FixtureCase> Load(string prefix)
    {
        var files = FixtureFolder.All.SelectMany(folder => Directory.GetFiles(folder, prefix + "*.json"));
        foreach (var file in files.OrderBy(System.IO.Path.GetFileName, StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(System.IO.File.ReadAllText(file));
            yield return new FixtureCase(file, document.RootElement.Clone());
        }
    }
}
