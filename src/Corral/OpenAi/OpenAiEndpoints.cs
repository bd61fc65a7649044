using System.Buffers;
using System.Text.Json;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;
using Corral.Native;
using Corral.Usage;

namespace Corral.OpenAi;

/// <summary>
/// The OpenAI surface over the fleet: requests are checked and translated before any backend is called, sent
/// to <c>/api/chat</c>, <c>/api/generate</c> or <c>/api/embed</c> of a backend that holds the model, and the
/// answers translated back (streams frame by frame). Errors use OpenAI's envelope with the upstream status.
/// </summary>
internal sealed class OpenAiEndpoints(ModelRouter router, ModelCatalog catalog, Dispatcher dispatcher, ShutdownDrain drain, CorralSettings settings, TimeProvider time)
{
    public Task ChatAsync(HttpContext context) => ProxyAsync(context, OpenAiRoute.Chat);

    public Task CompletionsAsync(HttpContext context) => ProxyAsync(context, OpenAiRoute.Completions);

    public Task EmbeddingsAsync(HttpContext context) => ProxyAsync(context, OpenAiRoute.Embeddings);

    /// <summary><c>GET /v1/models</c>: the catalog as OpenAI models (an empty fleet gives <c>"data": []</c>, not null).</summary>
    public async Task ModelsAsync(HttpContext context)
    {
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        await WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var model in snapshot.Models)
            {
                WriteModel(writer, model.Name, model.Locations[0]);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary><c>GET /v1/models/{id}</c>: one model, its id exactly as asked.</summary>
    public async Task ModelAsync(HttpContext context)
    {
        var id = (string)context.Request.RouteValues["id"]!;
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        if (catalog.Resolve(snapshot, id) is not { } model)
        {
            await ErrorResponses.WriteOpenAiAsync(context, StatusCodes.Status404NotFound, $"model '{id}' not found", null);
            return;
        }

        await WriteJsonAsync(context, StatusCodes.Status200OK, writer => WriteModel(writer, id, model.Locations[0]));
    }

    private static void WriteModel(Utf8JsonWriter writer, string id, ModelLocation location)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "model");
        var modified = ChatCompletionWriter.String(location.Listing, "modified_at");
        writer.WriteNumber("created", modified is null ? 0 : OpenAiTime.UnixSeconds(modified) ?? 0);
        writer.WriteString("owned_by", ModelName.Namespace(location.UpstreamName));
        writer.WriteEndObject();
    }

    private async Task ProxyAsync(HttpContext context, OpenAiRoute route)
    {
        var (body, status, readError) = await JsonRequestBody.ReadAsync(context.Request.BodyReader, settings.MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            await ErrorResponses.WriteOpenAiAsync(context, status, readError!, null);
            return;
        }

        using (body)
        {
            using var document = JsonDocument.Parse(body.Memory);
            var request = document.RootElement;
            var model = body.Get("model");
            var record = context.Features.Get<Pipeline.RequestRecord>();
            if (record is not null)
            {
                record.Model = model;
                record.BytesIn = body.Length;
                record.ClaimedUser = User(request);
            }

            if (string.IsNullOrEmpty(model))
            {
                await ErrorResponses.WriteOpenAiAsync(context, StatusCodes.Status400BadRequest, "model is required", null);
                return;
            }

            // Validate before anything else, as Ollama's layer does: a bad request never reaches a backend.
            var translation = Translate(route, request, model, out var base64);
            if (translation.Error is { } invalid)
            {
                await ErrorResponses.WriteOpenAiAsync(context, StatusCodes.Status400BadRequest, invalid, null);
                return;
            }

            if (await router.FindAsync(model, context.RequestAborted) is not { } entry)
            {
                var notFound = InferenceEndpoints.NotFound(route == OpenAiRoute.Embeddings ? NativeRoute.Embed : NativeRoute.Chat, model);
                await ErrorResponses.WriteOpenAiAsync(context, StatusCodes.Status404NotFound, notFound, null);
                return;
            }

            if (record is not null)
            {
                record.ResolvedModel = entry.Name;
            }

            // A prefixed backend is sent the name without its prefix, so each attempt translates for its backend.
            var path = route switch
            {
                OpenAiRoute.Chat => "/api/chat",
                OpenAiRoute.Completions => "/api/generate",
                _ => "/api/embed",
            };
            var session = context.Request.Headers["X-Corral-Session"].ToString() is { Length: > 0 } header ? header : User(request);
            using var dispatch = await dispatcher.SendAsync(
                context,
                entry,
                path,
                location => Content(location.Backend.Options.Prefix is null ? translation : Translate(route, request, ModelRouter.UpstreamName(location, model), out _)),
                keepAlive: null,
                session);
            if (dispatch is not null)
            {
                await RelayAsync(context, route, dispatch, translation, model, base64);
            }
        }
    }

    private static ByteArrayContent Content(Translation translation)
    {
        var content = new ByteArrayContent(translation.Body!);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private static string? User(JsonElement request) =>
        request.TryGetProperty("user"u8, out var user) && user.ValueKind == JsonValueKind.String && user.GetString() is { Length: > 0 } name ? name : null;

    private async Task RelayAsync(HttpContext context, OpenAiRoute route, Dispatch dispatch, Translation translation, string requestedModel, bool base64)
    {
        var backend = dispatch.Backend;
        var prefix = backend.Options.Prefix;
        var upstream = dispatch.Response;
        if (!upstream.IsSuccessStatusCode)
        {
            var error = await upstream.Content.ReadAsByteArrayAsync(context.RequestAborted);
            await ErrorResponses.WriteOpenAiAsync(context, (int)upstream.StatusCode, OllamaError.MessageOf(error), null);
            return;
        }

        if (translation.Stream)
        {
            ISseConverter converter = route == OpenAiRoute.Chat
                ? new ChatStreamConverter(OpenAiIds.New("chatcmpl-"), prefix, translation.IncludeUsage, time)
                : new CompletionStreamConverter(OpenAiIds.New("cmpl-"), prefix, translation.IncludeUsage, time);
            context.Features.Set(converter.Usage);
            if (await SseRelay.RelayAsync(context, backend, upstream, converter, drain))
            {
                dispatch.Complete();
            }

            if (context.Features.Get<Pipeline.RequestRecord>() is { } streamed)
            {
                streamed.PromptTokens = converter.Usage.PromptTokens;
                streamed.CompletionTokens = converter.Usage.CompletionTokens;
            }

            return;
        }

        var bytes = await upstream.Content.ReadAsByteArrayAsync(context.RequestAborted);
        JsonDocument native;
        try
        {
            native = JsonDocument.Parse(bytes);
        }
        catch (JsonException)
        {
            await ErrorResponses.WriteOpenAiAsync(context, StatusCodes.Status502BadGateway, $"{backend.Describe()} answered with something that is not JSON", null);
            return;
        }

        dispatch.Complete();
        using (native)
        {
            var usage = new TokenUsage();
            context.Features.Set(usage);
            var root = native.RootElement;
            if (context.Features.Get<Pipeline.RequestRecord>() is { } answered)
            {
                answered.PromptTokens = ChatCompletionWriter.Int(root, "prompt_eval_count");
                answered.CompletionTokens = ChatCompletionWriter.Int(root, "eval_count");
            }
            await WriteJsonAsync(context, StatusCodes.Status200OK, writer =>
            {
                switch (route)
                {
                    case OpenAiRoute.Chat:
                        ChatCompletionWriter.Write(writer, root, OpenAiIds.New("chatcmpl-"), prefix, time, usage);
                        break;
                    case OpenAiRoute.Completions:
                        CompletionWriter.Write(writer, root, OpenAiIds.New("cmpl-"), prefix, time, usage);
                        break;
                    default:
                        EmbeddingTranslator.WriteResponse(writer, root, requestedModel, base64, usage);
                        break;
                }
            });
        }
    }

    private static Translation Translate(OpenAiRoute route, JsonElement request, string model, out bool base64)
    {
        base64 = false;
        return route switch
        {
            OpenAiRoute.Chat => ChatRequestTranslator.Translate(request, model),
            OpenAiRoute.Completions => CompletionRequestTranslator.Translate(request, model),
            _ => EmbeddingTranslator.Translate(request, model, out base64),
        };
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, SseFrames.WriterOptions))
        {
            write(writer);
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private enum OpenAiRoute
    {
        Chat,
        Completions,
        Embeddings,
    }
}
