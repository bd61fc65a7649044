using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Native;

/// <summary>
/// generate, chat, embed, embeddings and show: the native surface parses the body (only the fields routing needs)
/// and hands the request to the pipeline; the backend's answer passes through as it was written. An unknown model
/// is answered with Ollama's own words, without calling any backend.
/// </summary>
internal sealed class InferenceEndpoints(InferencePipeline pipeline, CorralSettings settings)
{
    public Task GenerateAsync(HttpContext context) => RouteAsync(context, "/api/generate", NativeRoute.Generate);

    public Task ChatAsync(HttpContext context) => RouteAsync(context, "/api/chat", NativeRoute.Chat);

    public Task EmbedAsync(HttpContext context) => RouteAsync(context, "/api/embed", NativeRoute.Embed);

    public Task EmbeddingsAsync(HttpContext context) => RouteAsync(context, "/api/embeddings", NativeRoute.Embeddings);

    public Task ShowAsync(HttpContext context) => RouteAsync(context, "/api/show", NativeRoute.Show);

    private async Task RouteAsync(HttpContext context, string upstreamPath, NativeRoute route)
    {
        var record = context.Features.Get<RequestRecord>();
        using var body = await SurfaceBody.ReadAsync(context, settings, record);
        if (body is null)
        {
            return;
        }

        // show accepts the deprecated "name" as well as "model".
        var field = route == NativeRoute.Show && !body.Has("model") && body.Has("name") ? "name" : "model";
        var model = body.Get(field);
        if (string.IsNullOrEmpty(model))
        {
            await ErrorWriter.WriteAsync(context, route == NativeRoute.Generate ? ProxyError.NotFound("model '' not found") : ProxyError.BadRequest("model is required"));
            return;
        }

        var request = new NativeInference(body, field, route)
        {
            Model = model,
            UpstreamPath = upstreamPath,
            KeepAlive = body.KeepAlive,
            Session = InferenceRequest.SessionOf(context),
            TakesSlot = route != NativeRoute.Show,
        };
        if (await pipeline.RunAsync(context, record, request) is { } error)
        {
            await ErrorWriter.WriteAsync(context, error);
        }
    }

    /// <summary>Ollama's own not-found text for each route (they differ, and clients match on them).</summary>
    public static string NotFound(NativeRoute route, string model) => route switch
    {
        NativeRoute.Embed or NativeRoute.Embeddings => $"model \"{model}\" not found, try pulling it first",
        NativeRoute.Show => $"model '{ModelName.Canonical(model)}' not found",
        _ => $"model '{model}' not found",
    };

    /// <summary>
    /// A native request: the client's bytes go as they are, unless a prefixed backend needs its own name of the model
    /// spliced in, or a preset is applied (then its answers name the preset).
    /// </summary>
    private sealed class NativeInference(JsonRequestBody body, string field, NativeRoute route) : InferenceRequest
    {
        public override ProxyError NotFound() => ProxyError.NotFound(InferenceEndpoints.NotFound(route, Model));

        public override HttpContent ContentFor(ModelLocation location)
        {
            if (Preset is { } preset)
            {
                return PresetBody.Content(PresetBody.Apply(body.Memory.Span, preset, location.NameFor(preset.Model), UpstreamPath, field));
            }

            return location.Backend.Options.Prefix is null ? body.ToContent() : body.ToContent([(field, location.NameFor(Model))]);
        }

        public override IRelayConverter ConverterFor(Backend backend, HttpResponseMessage upstream)
        {
            if (Preset is not { } preset)
            {
                return new PassThroughConverter();
            }

            return route == NativeRoute.Show && upstream.IsSuccessStatusCode
                ? new PresetShowConverter(preset, BaseModel!)
                : new ModelRenamingConverter(new PassThroughConverter(), Model);
        }
    }
}

/// <summary>The native routes that route by model.</summary>
internal enum NativeRoute
{
    Generate,
    Chat,
    Embed,
    Embeddings,
    Show,
}
