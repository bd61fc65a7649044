using System.Text.Json;
using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;
using Corral.Native;
using Corral.Pipeline;

namespace Corral.OpenAi;

/// <summary>
/// The OpenAI surface over the fleet: a request is checked and translated to the native API before any backend is
/// called, handed to the pipeline as a native call on <c>/api/chat</c>, <c>/api/generate</c> or <c>/api/embed</c>,
/// and the answer translated back (streams frame by frame). Errors use OpenAI's envelope with the upstream status.
/// </summary>
internal sealed class OpenAiEndpoints(InferencePipeline pipeline, ModelCatalog catalog, CorralSettings settings, TimeProvider time)
{
    public Task ChatAsync(HttpContext context) => ProxyAsync(context, OpenAiRoute.Chat);

    public Task CompletionsAsync(HttpContext context) => ProxyAsync(context, OpenAiRoute.Completions);

    public Task EmbeddingsAsync(HttpContext context) => ProxyAsync(context, OpenAiRoute.Embeddings);

    /// <summary><c>POST /v1/responses</c>: passed through to the backend's own Responses API, which Ollama translates.</summary>
    public Task ResponsesAsync(HttpContext context) => CompatibleInference.ServeAsync(
        context,
        pipeline,
        settings,
        static (body, model, session) => new ResponsesInference(body) { Model = model, UpstreamPath = "/v1/responses", Session = session },
        User);

    /// <summary><c>POST /v1/audio/transcriptions</c>: the multipart form routed by its <c>model</c> field, passed through.</summary>
    public Task TranscriptionsAsync(HttpContext context) => TranscriptionInference.ServeAsync(context, pipeline, settings);

    /// <summary><c>GET /v1/models</c>: the catalog as OpenAI models, those the key may use (none gives <c>"data": []</c>, not null).</summary>
    public async Task ModelsAsync(HttpContext context)
    {
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        var allowed = context.Features.Get<Caller>()?.Models ?? ModelAllowList.Everything;
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, "application/json", (snapshot, allowed), static (writer, state) =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var model in state.snapshot.Models)
            {
                if (state.allowed.Allows(model.Name))
                {
                    WriteModel(writer, model.Name, model.Locations[0]);
                }
            }

            foreach (var entry in state.snapshot.Presets)
            {
                if (entry is { Base: { } model, Shadowed: null } && state.allowed.Allows(entry.Preset.Name))
                {
                    WriteModel(writer, entry.Preset.Name, model.Locations[0]);
                }
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary><c>GET /v1/models/{id}</c>: one model, its id exactly as asked.</summary>
    public async Task ModelAsync(HttpContext context)
    {
        var id = (string)context.Request.RouteValues["id"]!;
        var match = await catalog.MatchAsync(id, context.RequestAborted);
        if (match.Model is not { } model
            || context.Features.Get<Caller>() is { } caller && !caller.Models.Allows(match.Preset?.Name ?? model.Name))
        {
            await ErrorWriter.WriteAsync(context, ProxyError.NotFound($"model '{id}' not found"));
            return;
        }

        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, "application/json", (id, model.Locations[0]), static (writer, m) => WriteModel(writer, m.id, m.Item2));
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
        var (body, readError) = await JsonRequestBody.ReadAsync(context.Request.BodyReader, settings.MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            await ErrorWriter.WriteAsync(context, readError!);
            return;
        }

        using (body)
        {
            var record = context.Features.Get<RequestRecord>();
            if (record is not null)
            {
                record.BytesIn = body.Length;
                record.KeepRequestBody(body.Memory.Span);
            }

            using var document = JsonDocument.Parse(body.Memory);
            var root = document.RootElement;
            var model = body.Get("model");
            if (record is not null)
            {
                record.Model = model;
                record.ClaimedUser = User(root);
            }

            if (string.IsNullOrEmpty(model))
            {
                await ErrorWriter.WriteAsync(context, ProxyError.BadRequest("model is required"));
                return;
            }

            // Validate before anything else, as Ollama's layer does: a bad request never reaches a backend.
            var translation = Translate(route, root, model, out var base64);
            if (translation.Error is { } invalid)
            {
                await ErrorWriter.WriteAsync(context, ProxyError.BadRequest(invalid));
                return;
            }

            var request = new OpenAiInference(route, root, translation, base64, time)
            {
                Model = model,
                UpstreamPath = route switch
                {
                    OpenAiRoute.Chat => "/api/chat",
                    OpenAiRoute.Completions => "/api/generate",
                    _ => "/api/embed",
                },
                Session = InferenceRequest.SessionOf(context, User(root)),
            };
            if (await pipeline.RunAsync(context, record, request) is { } error)
            {
                await ErrorWriter.WriteAsync(context, error);
            }
        }
    }

    private static string? User(JsonElement request) =>
        request.ValueKind == JsonValueKind.Object && request.TryGetProperty("user"u8, out var user) && user.ValueKind == JsonValueKind.String
        && user.GetString() is { Length: > 0 } name ? name : null;

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

    private enum OpenAiRoute
    {
        Chat,
        Completions,
        Embeddings,
    }

    /// <summary>
    /// An OpenAI request as a native call: the translation is the body (made again for a prefixed backend, which is
    /// sent its own name of the model), and the answer is turned back into OpenAI's shape.
    /// </summary>
    private sealed class OpenAiInference(OpenAiRoute route, JsonElement request, Translation translation, bool base64, TimeProvider time) : InferenceRequest
    {
        public override ProxyError NotFound() =>
            ProxyError.NotFound(InferenceEndpoints.NotFound(route == OpenAiRoute.Embeddings ? NativeRoute.Embed : NativeRoute.Chat, Model));

        public override HttpContent ContentFor(ModelLocation location)
        {
            if (Preset is { } preset)
            {
                // The translation is a native body: the preset applies to it as to a native request's.
                return PresetBody.Content(PresetBody.Apply(translation.Body, preset, location.NameFor(preset.Model), UpstreamPath));
            }

            var body = location.Backend.Options.Prefix is null ? translation : Translate(route, request, location.NameFor(Model), out _);
            var content = new ByteArrayContent(body.Body!);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            return content;
        }

        public override IRelayConverter ConverterFor(Backend backend, HttpResponseMessage upstream)
        {
            if (!upstream.IsSuccessStatusCode)
            {
                return new UpstreamErrorConverter((int)upstream.StatusCode);
            }

            // A preset's answers name the preset: its native lines are renamed before they are translated.
            return Preset is null ? Converter(backend, backend.Options.Prefix) : new ModelRenamingConverter(Converter(backend, prefix: null), Model);
        }

        private IRelayConverter Converter(Backend backend, string? prefix)
        {
            if (translation.Stream)
            {
                return route == OpenAiRoute.Chat
                    ? new ChatStreamConverter(OpenAiIds.New("chatcmpl-"), prefix, translation.IncludeUsage, time, backend)
                    : new CompletionStreamConverter(OpenAiIds.New("cmpl-"), prefix, translation.IncludeUsage, time, backend);
            }

            return new AnswerConverter(route, backend, Model, base64, time);
        }
    }

    /// <summary>A whole native answer written as OpenAI's: a chat completion, a completion or embeddings.</summary>
    private sealed class AnswerConverter(OpenAiRoute route, Backend backend, string requestedModel, bool base64, TimeProvider time) : BufferingConverter
    {
        private readonly Usage.TokenUsage _usage = new();

        public override int PromptTokens => _usage.PromptTokens;

        public override int CompletionTokens => _usage.CompletionTokens;

        protected override async ValueTask<bool> AnswerAsync(HttpContext context, ReadOnlyMemory<byte> body)
        {
            JsonDocument native;
            try
            {
                native = JsonDocument.Parse(body);
            }
            catch (JsonException)
            {
                await ErrorWriter.WriteAsync(context, ProxyError.BadGateway($"{backend.Describe()} answered with something that is not JSON"));
                return false;
            }

            using (native)
            {
                var prefix = backend.Options.Prefix;
                await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, "application/json", this, (writer, self) =>
                {
                    var root = native.RootElement;
                    switch (route)
                    {
                        case OpenAiRoute.Chat:
                            ChatCompletionWriter.Write(writer, root, OpenAiIds.New("chatcmpl-"), prefix, time, self._usage);
                            break;
                        case OpenAiRoute.Completions:
                            CompletionWriter.Write(writer, root, OpenAiIds.New("cmpl-"), prefix, time, self._usage);
                            break;
                        default:
                            EmbeddingTranslator.WriteResponse(writer, root, requestedModel, base64, self._usage);
                            break;
                    }
                });
            }

            return true;
        }
    }

    /// <summary>A backend's error answer (status and Ollama's message) in OpenAI's envelope.</summary>
    private sealed class UpstreamErrorConverter(int status) : BufferingConverter
    {
        private string? _error;

        public override string? Error => _error;

        protected override async ValueTask<bool> AnswerAsync(HttpContext context, ReadOnlyMemory<byte> body)
        {
            _error = OllamaError.MessageOf(body.Span);
            await ErrorWriter.WriteAsync(context, ProxyError.Upstream(status, _error));
            return true;
        }
    }
}
