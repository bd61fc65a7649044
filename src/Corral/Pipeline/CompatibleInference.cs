using System.Buffers;
using System.Text.Json;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Pipeline;

/// <summary>
/// A request of an API that Ollama serves and translates itself (OpenAI's Responses, Anthropic's Messages): routed
/// by its <c>model</c> like chat, its body sent to the same path on the backend as the client wrote it but for the
/// model's name (the backend's own, or a preset's base with the preset applied in the API's words,
/// <see cref="PresetFields"/>), and the answer relayed as it comes with the model named as asked and its usage
/// read on the way (<see cref="CompatibleAnswerConverter"/>).
/// </summary>
internal abstract class CompatibleInference(JsonRequestBody body) : InferenceRequest
{
    // The name the last attempt sent: the answer being relayed is that attempt's.
    private string? _sent;

    /// <summary>Event types that end a whole stream of this API.</summary>
    protected abstract string[] FinalEvents { get; }

    protected override bool CarriesKeepAlive => false;

    /// <summary>
    /// Reads the body of a compatible route and serves it through <paramref name="pipeline"/>, answering errors in
    /// the endpoint's shape; <paramref name="create"/> makes the request once the body has a model (given with the
    /// session: <c>X-Corral-Session</c>, else the end user the body names, <paramref name="user"/>).
    /// </summary>
    public static async Task ServeAsync(
        HttpContext context,
        InferencePipeline pipeline,
        CorralSettings settings,
        Func<JsonRequestBody, string, string?, CompatibleInference> create,
        Func<JsonElement, string?> user)
    {
        var record = context.Features.Get<RequestRecord>();
        using var body = await SurfaceBody.ReadAsync(context, settings, record);
        if (body is null)
        {
            return;
        }

        var model = body.Get("model");
        string? claimed;
        using (var document = JsonDocument.Parse(body.Memory))
        {
            claimed = user(document.RootElement);
        }

        if (record is not null)
        {
            record.Model = model;
            record.ClaimedUser = claimed;
        }

        if (string.IsNullOrEmpty(model))
        {
            await ErrorWriter.WriteAsync(context, ProxyError.BadRequest("model is required"));
            return;
        }

        var request = create(body, model, SessionOf(context, claimed));
        if (await pipeline.RunAsync(context, record, request) is { } error)
        {
            await ErrorWriter.WriteAsync(context, error);
        }
    }

    public override HttpContent ContentFor(ModelLocation location)
    {
        if (Preset is { } preset)
        {
            _sent = location.NameFor(preset.Model);
            return PresetBody.Content(BodyRewrite.Apply(body.Memory.Span, PresetFields(preset, _sent)));
        }

        _sent = location.NameFor(Model);
        return _sent == Model ? body.ToContent() : body.ToContent([("model", _sent)]);
    }

    public override IRelayConverter ConverterFor(Backend backend, HttpResponseMessage upstream) =>
        new CompatibleAnswerConverter(_sent == Model ? null : Model, StreamError, FinalEvents);

    /// <summary>
    /// The fields <paramref name="preset"/> sets in this API's body, <c>model</c> (<paramref name="model"/>, the
    /// backend's name of the base) first: what of its system prompt, options, think and format the API can say.
    /// </summary>
    protected abstract IReadOnlyList<(string Name, FieldWriter Write)> PresetFields(ModelPreset preset, string model);

    /// <summary>The server-sent event that ends a stream broken off with <paramref name="message"/>, in this API's shape.</summary>
    protected abstract byte[] StreamError(string message);

    /// <summary>The preset's option <paramref name="name"/> (Ollama's <c>options</c>), if it sets it.</summary>
    protected static JsonElement? Option(ModelPreset preset, string name) =>
        preset.Options is { ValueKind: JsonValueKind.Object } options && options.TryGetProperty(name, out var value) ? value : null;

    /// <summary>An <c>event: error</c> with the JSON <paramref name="write"/> writes, as the APIs' own streams end on a failure.</summary>
    protected static byte[] ErrorEvent(string message, Action<Utf8JsonWriter, string> write)
    {
        var buffer = new ArrayBufferWriter<byte>(128 + message.Length);
        buffer.Write("event: error\ndata: "u8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, message);
        }

        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The <c>model</c> field, always <paramref name="model"/>.</summary>
    protected static (string, FieldWriter) ModelField(string model) => ("model", (writer, _) => writer.WriteString("model", model));
}
