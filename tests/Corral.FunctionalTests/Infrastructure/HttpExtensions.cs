using System.Text;
using System.Text.Json;

namespace Corral.FunctionalTests.Infrastructure;

/// <summary>Small helpers for sending JSON and reading Ollama answers.</summary>
internal static class HttpExtensions
{
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, string json, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead, CancellationToken cancellationToken = default) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") }, completion, cancellationToken);

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static async Task<string> ErrorAsync(this HttpResponseMessage response) =>
        (await response.JsonAsync()).GetProperty("error").GetString()!;

    public static async Task<JsonElement[]> NdjsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.Clone();
        }).ToArray();
    }

    public static string? Backend(this HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Corral-Backend", out var values) ? values.First() : null;

    public static string[] ModelNames(this JsonElement tags) =>
        tags.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("name").GetString()!).ToArray();
}
