using System.Buffers;
using System.Net.Http.Headers;
using System.Text.Json;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Admin;

/// <summary>
/// <c>POST /admin/api/models/unload</c>: frees a model's memory on every backend holding it, as Ollama's own
/// clients do, with a <c>keep_alive</c> of 0 (a generate with no prompt; an embedding model refuses generate, so
/// an embed with no input). Holders are the backends that list the model and those Corral knows have it loaded.
/// </summary>
internal sealed class ModelUnloader(BackendFleet fleet, ModelCatalog catalog, BackendClient client, CorralSettings settings, TimeProvider time)
{
    private const string Example = """{"model":"llama3.2"}""";
    private static readonly string[] s_fields = ["model"];
    private static readonly MediaTypeHeaderValue s_json = new("application/json");

    public async Task UnloadAsync(HttpContext context)
    {
        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, Example);
        if (document is null)
        {
            return;
        }

        var body = document.RootElement;
        var problems = new List<string>();
        AdminBody.CheckFields(body, s_fields, problems);
        var model = ConfigFile.ReadString(body, "model", AdminBody.Where, problems);
        if (model is null ? !AdminBody.Has(body, "model") : string.IsNullOrWhiteSpace(model))
        {
            problems.Add($"{AdminBody.Where}: \"model\" is required, like {Example}");
        }

        if (problems.Count > 0)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));
            return;
        }

        if (context.Features.Get<Pipeline.RequestRecord>() is { } record)
        {
            record.Model = model;
        }

        var holders = await HoldersAsync(model!, context.RequestAborted);
        if (holders.Count == 0)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status404NotFound, $"no backend holds the model '{model}': none lists it and none has it loaded");
            return;
        }

        var results = await Task.WhenAll(holders.Select(h => UnloadAsync(h.Backend, h.UpstreamName, context.RequestAborted)));
        await context.Response.WriteAsJsonAsync(new UnloadResponse(model!, results), CorralJsonContext.Default.UnloadResponse, cancellationToken: context.RequestAborted);
    }

    /// <summary>Each backend holding <paramref name="model"/>, with its own name for it (without the backend's prefix).</summary>
    private async Task<List<(Backend Backend, string UpstreamName)>> HoldersAsync(string model, CancellationToken cancellationToken)
    {
        var holders = new List<(Backend Backend, string UpstreamName)>();
        var snapshot = await catalog.GetAsync(cancellationToken);
        if (catalog.Resolve(snapshot, model) is { } entry)
        {
            foreach (var location in entry.Locations)
            {
                holders.Add((location.Backend, location.NameFor(model)));
            }
        }

        // A backend the catalog does not list (disabled, or its listing failed) may still have the model in memory.
        var now = time.GetUtcNow();
        foreach (var backend in fleet.All)
        {
            if (holders.Exists(h => h.Backend == backend))
            {
                continue;
            }

            var upstream = backend.Options.Prefix is { } prefix ? ModelName.WithoutPrefix(model, prefix) : model;
            if (upstream is not null && backend.Loaded.IsLoaded(ModelName.Key(upstream), now))
            {
                holders.Add((backend, upstream));
            }
        }

        return holders;
    }

    private async Task<UnloadResult> UnloadAsync(Backend backend, string upstreamName, CancellationToken cancellationToken)
    {
        var (status, error) = await PostAsync(backend, "/api/generate", Body(upstreamName, embed: false), cancellationToken);
        if (status == StatusCodes.Status400BadRequest)
        {
            // "… does not support generate": an embedding model.
            (_, error) = await PostAsync(backend, "/api/embed", Body(upstreamName, embed: true), cancellationToken);
        }

        if (error is not null)
        {
            return new UnloadResult(backend.Name, Ok: false, $"{backend.Describe()} {error}");
        }

        backend.Loaded.MarkUnloaded(ModelName.Key(upstreamName));
        fleet.NotifyStatusChanged();
        return new UnloadResult(backend.Name, Ok: true, Error: null);
    }

    /// <summary>POSTs a small JSON body; the status, and an error in words unless the backend answered 2xx.</summary>
    private async Task<(int Status, string? Error)> PostAsync(Backend backend, string path, byte[] body, CancellationToken cancellationToken)
    {
        // An embedding model may have to load before it can unload, so the bound is the backend's first-byte timeout.
        var content = new ByteArrayContent(body) { Headers = { ContentType = s_json } };
        var reply = await client.ExchangeAsync(backend, HttpMethod.Post, path, content, caller: null, cancellationToken, backend.FirstByteTimeout, "its first-byte timeout");
        if (reply.Failure is { Kind: FailureKind.AnswerTimeout } timedOut)
        {
            return (0, timedOut.Cause);
        }

        if (reply.Failure is { } failure)
        {
            return (0, $"could not be reached: {failure.Cause}");
        }

        return reply.IsSuccess ? (reply.Status, null) : (reply.Status, $"answered {reply.Status} to POST {path}: {OllamaError.MessageOf(reply.Body)}");
    }

    /// <summary><c>{"model":…,"keep_alive":0}</c>, with <c>"input":""</c> for embed.</summary>
    private static byte[] Body(string model, bool embed)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("model", model);
            if (embed)
            {
                writer.WriteString("input", string.Empty);
            }

            writer.WriteNumber("keep_alive", 0);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
