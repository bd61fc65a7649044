using System.Net;
using System.Text.Json;
using Corral.FunctionalTests.Infrastructure;
using Corral.Hosting;
using Corral.Simulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Corral.FunctionalTests.Hosting;

/// <summary>Edits of the configuration file reach a running Corral without a restart, and a broken edit harms nothing.</summary>
public sealed class ConfigReloadTests : IDisposable
{

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"corral-ft-config-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_path);

    // Written as editors and ConfigMaps do it (a new file renamed over the old), so no check reads half a file.
    private void WriteConfig(string json)
    {
        var temporary = _path + ".tmp";
        File.WriteAllText(temporary, json);
        File.Move(temporary, _path, overwrite: true);
    }

    private void WriteConfig(params (string Name, SimulatedOllama Simulator)[] backends) =>
        WriteConfig(JsonSerializer.Serialize(new
        {
            backends = backends.Select(b => new { name = b.Name, url = b.Simulator.BaseAddress.ToString().TrimEnd('/') }),
        }));

    // Corral as `corral serve --config FILE` starts it: the fleet is the file's backends.
    private async Task<CorralInstance> StartCorralAsync()
    {
        var problems = new List<string>();
        var backends = ConfigFile.Read(_path, problems).Backends;
        problems.Should().BeEmpty();
        return await CorralInstance.StartAsync(backends, s => s with { ConfigFile = _path, ConfigPollInterval = TimeSpan.FromMilliseconds(100) });
    }

    private static async Task<string[]> TagsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/tags");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return (await response.JsonAsync()).ModelNames();
    }

    private static Task<string[]> WaitForTagsAsync(HttpClient client, Func<string[], bool> condition, string what) =>
        Eventually.ValueAsync(() => TagsAsync(client), condition, $"/api/tags shows that {what}", tags => "it lists " + string.Join(", ", tags));

    private static bool Lists(string[] tags, string model) => tags.Any(t => t.StartsWith(model + ":", StringComparison.Ordinal));

    private static Task<HttpResponseMessage> GenerateAsync(HttpClient client, string model) =>
        client.PostJsonAsync("/api/generate", $$$"""{"model":"{{{model}}}","prompt":"hi","stream":false,"options":{"num_predict":2}}""");

    [Fact]
    public async Task Reload_TrustedNetworkAddedThenRemoved_KeylessClientsServedThenRefusedWithoutRestart()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        var backend = new { name = "a", url = a.BaseAddress.ToString().TrimEnd('/') };
        WriteConfig(JsonSerializer.Serialize(new { backends = new[] { backend } }));
        await using var corral = await StartCorralAsync();
        using var anonymous = corral.Client(key: null);
        async Task<HttpStatusCode> StatusAsync()
        {
            using var response = await anonymous.GetAsync("/api/tags");
            return response.StatusCode;
        }

        (await StatusAsync()).Should().Be(HttpStatusCode.Unauthorized);

        WriteConfig(JsonSerializer.Serialize(new { backends = new[] { backend }, trustedNetworks = new[] { new { cidr = "127.0.0.1/32", role = "user" } } }));
        await Eventually.ValueAsync(StatusAsync, s => s == HttpStatusCode.OK, "a client of the trusted network is served without a key", s => $"it got {(int)s}");

        WriteConfig(JsonSerializer.Serialize(new { backends = new[] { backend } }));
        await Eventually.ValueAsync(StatusAsync, s => s == HttpStatusCode.Unauthorized, "the network is no longer trusted", s => $"it got {(int)s}");
    }

    [Fact]
    public async Task Reload_BackendAddedToTheFile_ItsModelBecomesRoutableWithoutRestart()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        WriteConfig(("a", a));
        await using var corral = await StartCorralAsync();
        using var client = corral.Client();
        using (var before = await GenerateAsync(client, "qwen3"))
        {
            before.StatusCode.Should().Be(HttpStatusCode.NotFound, "no backend holds qwen3 yet");
        }

        WriteConfig(("a", a), ("b", b));
        await WaitForTagsAsync(client, tags => Lists(tags, "qwen3"), "qwen3 of the added backend is listed");

        using var response = await GenerateAsync(client, "qwen3");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Backend().Should().Be("b");
        b.Received("/api/generate").Should().ContainSingle();
        using var old = await GenerateAsync(client, "llama3.2");
        old.StatusCode.Should().Be(HttpStatusCode.OK);
        old.Backend().Should().Be("a");
    }

    [Fact]
    public async Task Reload_BackendRemovedFromTheFile_ItsModelLeavesTheTagsAndIsNotRouted()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        WriteConfig(("a", a), ("b", b));
        await using var corral = await StartCorralAsync();
        using var client = corral.Client();
        Lists(await TagsAsync(client), "qwen3").Should().BeTrue();

        WriteConfig(("a", a));
        await WaitForTagsAsync(client, tags => !Lists(tags, "qwen3"), "qwen3 of the removed backend is gone");

        b.Journal.Clear();
        using var removed = await GenerateAsync(client, "qwen3");
        removed.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await removed.ErrorAsync()).Should().Be("model 'qwen3' not found");
        b.Received("/api/generate").Should().BeEmpty();
        using var kept = await GenerateAsync(client, "llama3.2");
        kept.StatusCode.Should().Be(HttpStatusCode.OK);
        kept.Backend().Should().Be("a");
    }

    [Fact]
    public async Task Reload_InvalidJson_KeepsServingEveryBackendUntilTheFileIsFixed()
    {
        await using var a = await Sim.StartAsync("llama3.2");
        await using var b = await Sim.StartAsync("qwen3");
        WriteConfig(("a", a), ("b", b));
        await using var corral = await StartCorralAsync();
        using var client = corral.Client();
        var watcher = corral.Server.Services.GetServices<IHostedService>().OfType<ConfigWatcher>().Single();

        // Half an edit that drops b: applied, it would remove b; as it is not valid JSON, it must change nothing.
        WriteConfig($$"""{ "backends": [ { "name": "a", "url": "{{a.BaseAddress.ToString().TrimEnd('/')}}" }, """);
        await Eventually.WaitUntilAsync(() => watcher.Problems.Count > 0, "the watcher noticed the edited file");

        watcher.Problems.Should().ContainSingle().Which.Should().Contain("not valid JSON");
        var tags = await TagsAsync(client);
        Lists(tags, "llama3.2").Should().BeTrue();
        Lists(tags, "qwen3").Should().BeTrue();
        using (var onA = await GenerateAsync(client, "llama3.2"))
        using (var onB = await GenerateAsync(client, "qwen3"))
        {
            onA.StatusCode.Should().Be(HttpStatusCode.OK);
            onA.Backend().Should().Be("a");
            onB.StatusCode.Should().Be(HttpStatusCode.OK);
            onB.Backend().Should().Be("b");
        }

        // The edit completed: now it applies.
        WriteConfig(("a", a));
        await WaitForTagsAsync(client, tags => !Lists(tags, "qwen3"), "the fixed file removed b");
        watcher.Problems.Should().BeEmpty();
    }

    [Fact]
    public async Task Reload_BackendRemovedWhileItStreams_TheStreamFinishesNormally()
    {
        await using var a = await Sim.StartAsync(["llama3.2"], o => o.TokensPerSecond = 10);
        await using var b = await Sim.StartAsync("qwen3");
        WriteConfig(("a", a), ("b", b));
        await using var corral = await StartCorralAsync();
        using var client = corral.Client();

        using var response = await client.PostJsonAsync("/api/generate", """{"model":"llama3.2","prompt":"tell me","options":{"num_predict":50}}""", HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Backend().Should().Be("a");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        (await reader.ReadLineAsync()).Should().NotBeNull();
        var entry = a.Received("/api/generate").Single();

        WriteConfig(("b", b));
        await WaitForTagsAsync(client, tags => !Lists(tags, "llama3.2"), "llama3.2 of the removed backend is gone");
        entry.Completed.IsCompleted.Should().BeFalse("the backend must be removed while its stream is still running");

        var rest = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToArray();
        rest.Should().HaveCount(50, "49 more tokens and the final metrics line");
        rest.Where(line => line.TryGetProperty("error", out var _)).Should().BeEmpty("the stream must not be cut off");
        rest[^1].GetProperty("done").GetBoolean().Should().BeTrue();
        entry.ClientAborted.Should().BeFalse();

        using var after = await GenerateAsync(client, "llama3.2");
        after.StatusCode.Should().Be(HttpStatusCode.NotFound, "new requests no longer go to the removed backend");
    }
}
