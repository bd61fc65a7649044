using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;

namespace Corral.Pipeline;

/// <summary>
/// What a surface asks the fleet for, in no surface's shape: one model, one native call on whichever backend
/// serves it, and how the answer is to be shaped for the client. A surface parses its request into one (a
/// subclass that knows its body and its answers) and hands it to the <see cref="InferencePipeline"/>.
/// </summary>
internal abstract class InferenceRequest
{
    /// <summary>The model as the client asked for it.</summary>
    public required string Model { get; init; }

    /// <summary>The native path the backend is called on (<c>/api/chat</c>, <c>/api/generate</c>, <c>/api/embed</c>…).</summary>
    public required string UpstreamPath { get; init; }

    private TimeSpan? _keepAlive;

    /// <summary>The request's <c>keep_alive</c>: how long the model stays loaded after it (a preset's wins).</summary>
    public TimeSpan? KeepAlive { get => _keepAlive; init => _keepAlive = value; }

    /// <summary>The preset the client named, once the catalog found it (<see cref="UsePreset"/>), or null.</summary>
    public ModelPreset? Preset { get; private set; }

    /// <summary>The catalog id of the preset's base, with <see cref="Preset"/>.</summary>
    public string? BaseModel { get; private set; }

    /// <summary>A stickiness key (X-Corral-Session, or OpenAI's <c>user</c>), or null.</summary>
    public string? Session { get; init; }

    /// <summary>The request's stickiness key: its <c>X-Corral-Session</c> header, else <paramref name="user"/> (the end user its body names).</summary>
    public static string? SessionOf(HttpContext context, string? user = null) =>
        context.Request.Headers["X-Corral-Session"].ToString() is { Length: > 0 } header ? header : user;

    /// <summary>Whether the request runs the model and so takes a slot (show does not).</summary>
    public bool TakesSlot { get; init; } = true;

    /// <summary>
    /// The client named <paramref name="preset"/>, which runs on <paramref name="baseModel"/>: the body sent and the
    /// answers' shape follow it (<see cref="ContentFor"/>, <see cref="ConverterFor"/>), its keep_alive wins.
    /// </summary>
    public void UsePreset(ModelPreset preset, CatalogModel baseModel)
    {
        Preset = preset;
        BaseModel = baseModel.Name;
        _keepAlive = CarriesKeepAlive ? preset.KeepAliveSpan ?? _keepAlive : _keepAlive;
    }

    /// <summary>
    /// Whether the body sent can carry a preset's <c>keep_alive</c> (the native one can; the APIs Ollama translates
    /// itself have no field for it, so the backend keeps its own and the fleet must not expect the preset's).
    /// </summary>
    protected virtual bool CarriesKeepAlive => true;

    /// <summary>The answer for a model no backend lists, in the surface's own words.</summary>
    public abstract ProxyError NotFound();

    /// <summary>The body for the backend at <paramref name="location"/> (its name for the model, without its prefix).</summary>
    public abstract HttpContent ContentFor(ModelLocation location);

    /// <summary>How the backend's answer is shaped for the client.</summary>
    public abstract IRelayConverter ConverterFor(Backend backend, HttpResponseMessage upstream);
}
