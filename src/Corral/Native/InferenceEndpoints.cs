using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Native;

/// <summary>
/// generate, chat, embed, embeddings and show: find the model in the catalog, get a slot on the best backend
/// that holds it (show needs none), strip the backend's prefix, and forward. An unknown model is answered here,
/// without calling any backend.
/// </summary>
internal sealed class InferenceEndpoints(ModelRouter router, Dispatcher dispatcher, Forwarder forwarder, CorralSettings settings)
{
    public Task GenerateAsync(HttpContext context) => RouteAsync(context, "/api/generate", NativeRoute.Generate);

    public Task ChatAsync(HttpContext context) => RouteAsync(context, "/api/chat", NativeRoute.Chat);

    public Task EmbedAsync(HttpContext context) => RouteAsync(context, "/api/embed", NativeRoute.Embed);

    public Task EmbeddingsAsync(HttpContext context) => RouteAsync(context, "/api/embeddings", NativeRoute.Embeddings);

    public Task ShowAsync(HttpContext context) => RouteAsync(context, "/api/show", NativeRoute.Show);

    private async Task RouteAsync(HttpContext context, string upstreamPath, NativeRoute route)
    {
        using var body = await NativeBody.ReadAsync(context, settings);
        if (body is null)
        {
            return;
        }

        // show accepts the deprecated "name" as well as "model".
        var field = route == NativeRoute.Show && !body.Has("model") && body.Has("name") ? "name" : "model";
        var model = body.Get(field);
        var record = context.Features.Get<Pipeline.RequestRecord>();
        if (record is not null)
        {
            record.Model = model;
            record.BytesIn = body.Length;
        }

        if (string.IsNullOrEmpty(model))
        {
            await OllamaError.WriteAsync(context, route == NativeRoute.Generate ? 404 : 400, route == NativeRoute.Generate ? "model '' not found" : "model is required");
            return;
        }

        if (await router.FindAsync(model, context.RequestAborted) is not { } entry)
        {
            await OllamaError.WriteAsync(context, StatusCodes.Status404NotFound, NotFound(route, model));
            return;
        }

        if (record is not null)
        {
            record.ResolvedModel = entry.Name;
        }

        if (route == NativeRoute.Show)
        {
            var location = router.PickAny(entry);
            await forwarder.ForwardAsync(context, location.Backend, HttpMethod.Post, upstreamPath, Content(body, field, model, location));
            return;
        }

        var session = context.Request.Headers["X-Corral-Session"].ToString();
        using var dispatch = await dispatcher.SendAsync(
            context, entry, upstreamPath, location => Content(body, field, model, location), body.KeepAlive, session.Length == 0 ? null : session);
        if (dispatch is not null)
        {
            await forwarder.RelayAsync(context, dispatch);
        }
    }

    /// <summary>A prefixed backend gets the name without its prefix; otherwise the client's bytes go as they are.</summary>
    private static HttpContent Content(JsonRequestBody body, string field, string model, ModelLocation location) =>
        location.Backend.Options.Prefix is null
            ? body.ToContent()
            : body.ToContent([(field, ModelRouter.UpstreamName(location, model))]);

    /// <summary>Ollama's own not-found text for each route (they differ, and clients match on them).</summary>
    public static string NotFound(NativeRoute route, string model) => route switch
    {
        NativeRoute.Embed or NativeRoute.Embeddings => $"model \"{model}\" not found, try pulling it first",
        NativeRoute.Show => $"model '{ModelName.Canonical(model)}' not found",
        _ => $"model '{model}' not found",
    };
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
