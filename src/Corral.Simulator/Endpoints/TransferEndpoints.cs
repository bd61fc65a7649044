using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Corral.Simulator.Http;
using Corral.Simulator.Models;

namespace Corral.Simulator.Endpoints;

/// <summary><c>POST /api/pull</c>, <c>/api/push</c> and <c>/api/create</c>: progress streams that change the local models.</summary>
internal sealed class TransferEndpoints
{
    private static readonly string[] s_createFields = ["template", "system", "license", "parameters", "messages"];
    private readonly SimulatedOllama _simulator;

    public TransferEndpoints(SimulatedOllama simulator)
    {
        _simulator = simulator;
    }

    public async Task PullAsync(SimRequest request)
    {
        var body = RequestBody.Parse(request.Body, "PullRequest");
        var name = NameOf(body);
        var normalized = ModelName.Normalize(name) ?? throw ApiError.BadRequest("invalid model name");
        var progress = Reporter(request, body);
        await progress.ReportAsync("pulling manifest").ConfigureAwait(false);
        if (normalized.Contains("doesnotexist", StringComparison.OrdinalIgnoreCase))
        {
            await progress.FailAsync("pull model manifest: file does not exist").ConfigureAwait(false);
            return;
        }

        foreach (var (digest, size) in Layers(normalized))
        {
            var status = "pulling " + digest[7..19];
            await progress.ReportAsync(status, digest, size).ConfigureAwait(false);
            var steps = size > 1_000_000 ? 4 : 1;
            for (var step = 1; step <= steps; step++)
            {
                await progress.ReportAsync(status, digest, size, size * step / steps).ConfigureAwait(false);
            }
        }

        await progress.ReportAsync("verifying sha256 digest").ConfigureAwait(false);
        await progress.ReportAsync("writing manifest").ConfigureAwait(false);
        _simulator.Registry.AddOrReplace(normalized);
        await progress.ReportAsync("success").ConfigureAwait(false);
        await progress.CompleteAsync().ConfigureAwait(false);
    }

    public async Task PushAsync(SimRequest request)
    {
        var body = RequestBody.Parse(request.Body, "PushRequest");
        var name = NameOf(body);
        var normalized = ModelName.Normalize(name) ?? throw ApiError.BadRequest("invalid model name");
        var progress = Reporter(request, body);
        await progress.ReportAsync("retrieving manifest").ConfigureAwait(false);
        if (_simulator.Registry.Find(normalized) is null)
        {
            await progress.ReportAsync("couldn't retrieve manifest").ConfigureAwait(false);
            await progress.FailAsync($"open /root/.ollama/models/manifests/{ManifestPath(normalized)}: no such file or directory").ConfigureAwait(false);
            return;
        }

        foreach (var (digest, size) in Layers(normalized))
        {
            await progress.ReportAsync("starting upload", digest, size).ConfigureAwait(false);
        }

        await progress.ReportAsync("pushing manifest").ConfigureAwait(false);
        await progress.ReportAsync("success").ConfigureAwait(false);
        await progress.CompleteAsync().ConfigureAwait(false);
    }

    public async Task CreateAsync(SimRequest request)
    {
        var body = RequestBody.Parse(request.Body, "CreateRequest");
        var files = body.GetObject("files", "map[string]string");
        var name = NameOf(body);
        var normalized = ModelName.Normalize(name) ?? throw ApiError.BadRequest("invalid model name");
        var from = body.GetString("from") ?? string.Empty;
        if (from.Length == 0 && files is null)
        {
            throw ApiError.BadRequest("neither 'from' or 'files' was specified");
        }

        var digests = new List<string>();
        foreach (var file in files?.EnumerateObject() ?? default)
        {
            var digest = file.Value.ValueKind == JsonValueKind.String ? file.Value.GetString()! : throw ApiError.BadRequest($"json: cannot unmarshal {RequestBody.Kind(file.Value)} into Go struct field CreateRequest.files of type string");
            if (!BlobStore.IsValidDigest(digest))
            {
                throw ApiError.BadRequest("invalid digest format");
            }

            if (!_simulator.Blobs.Contains(digest))
            {
                throw ApiError.BadRequest($"open /root/.ollama/models/blobs/sha256-{digest[7..]}: no such file or directory");
            }

            digests.Add(digest);
        }

        var progress = Reporter(request, body);
        if (from.Length > 0)
        {
            var source = _simulator.Registry.Find(from);
            if (source is null)
            {
                // Ollama tries to pull an unknown base model; the simulated registry has none.
                await progress.ReportAsync("pulling manifest").ConfigureAwait(false);
                await progress.FailAsync("pull model manifest: file does not exist").ConfigureAwait(false);
                return;
            }

            foreach (var (digest, _) in Layers(source.Name))
            {
                await progress.ReportAsync("using existing layer " + digest).ConfigureAwait(false);
            }
        }
        else
        {
            await progress.ReportAsync("parsing GGUF").ConfigureAwait(false);
            foreach (var digest in digests)
            {
                await progress.ReportAsync("using existing layer sha256:" + digest[7..].ToLowerInvariant()).ConfigureAwait(false);
            }
        }

        foreach (var field in s_createFields)
        {
            if (body.Get(field) is { } value)
            {
                var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value.GetRawText())));
                await progress.ReportAsync("creating new layer " + digest).ConfigureAwait(false);
            }
        }

        await progress.ReportAsync("writing manifest").ConfigureAwait(false);
        _simulator.Registry.AddOrReplace(normalized);
        await progress.ReportAsync("success").ConfigureAwait(false);
        await progress.CompleteAsync().ConfigureAwait(false);
    }

    private static string NameOf(RequestBody body)
    {
        var name = body.GetString("model");
        return string.IsNullOrEmpty(name) ? body.GetString("name") ?? string.Empty : name;
    }

    private static string ManifestPath(string normalized)
    {
        var colon = normalized.LastIndexOf(':');
        var path = normalized[..colon];
        var parts = path.Split('/');
        var full = parts.Length switch
        {
            1 => $"registry.ollama.ai/library/{path}",
            2 => $"registry.ollama.ai/{path}",
            _ => path,
        };
        return $"{full}/{normalized[(colon + 1)..]}";
    }

    /// <summary>A model's layers: weights, template, license, params, config; digests derive from the name, sizes add up to its size.</summary>
    private static IEnumerable<(string Digest, long Size)> Layers(string normalized)
    {
        var traits = ModelTraits.For(normalized);
        long[] small = [1_429, 7_711, 96, 487];
        var weights = traits.Size - small.Sum();
        var sizes = new[] { weights }.Concat(small);
        var i = 0;
        foreach (var size in sizes)
        {
            var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"corral-sim-layer/{ModelName.Key(normalized)}/{i++}")));
            yield return (digest, size);
        }
    }

    private ProgressReporter Reporter(SimRequest request, RequestBody body) =>
        new(request, body.GetBool("stream") ?? true, _simulator.Time, _simulator.Options.TokensPerSecond > 0);
}
