using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Corral.Simulator;

namespace Corral.FunctionalTests.Simulator;

/// <summary>Starting simulators on free loopback ports and talking to them over real sockets.</summary>
internal static class SimulatorKit
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static Task<SimulatedOllama> StartAsync(Action<SimulatorOptions>? configure = null)
    {
        var options = new SimulatorOptions { Listen = "http://127.0.0.1:0", TokensPerSecond = 0 };
        configure?.Invoke(options);
        return SimulatedOllama.StartAsync(options);
    }

    public static HttpClient Client(SimulatedOllama simulator) => new() { BaseAddress = simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static HttpRequestMessage Request(HttpMethod method, string path, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }

    public static Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json, CancellationToken cancellationToken = default) =>
        client.SendAsync(Request(HttpMethod.Post, path, json), HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static async Task<string> ErrorOfAsync(HttpResponseMessage response) =>
        (await JsonAsync(response)).GetProperty("error").GetString()!;

    public static async Task<List<JsonElement>> LinesAsync(HttpResponseMessage response)
    {
        var lines = new List<JsonElement>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            using var document = JsonDocument.Parse(line);
            lines.Add(document.RootElement.Clone());
        }

        return lines;
    }
}
