using System.Text.Json;
using Corral.Simulator.Endpoints;
using Corral.Simulator.Http;

namespace Corral.Simulator.Surfaces;

/// <summary>
/// The compatible surfaces in front of the chat handler, as Ollama's routes chain a middleware before ChatHandler:
/// the middleware's own rejections are gin's <c>AbortWithStatusJSON</c> (charset, no newline) in the surface's
/// envelope; everything after goes through the surface's writer.
/// </summary>
internal sealed class SurfaceEndpoints
{
    private readonly InferenceEndpoints _inference;
    private readonly TimeProvider _time;

    public SurfaceEndpoints(InferenceEndpoints inference, TimeProvider time)
    {
        _inference = inference;
        _time = time;
    }

    public Task MessagesAsync(SimRequest request)
    {
        request.ErrorWriter = (status, message) => AbortAsync(request, status, MessagesSurface.WriteError, message);
        var (surface, chat) = MessagesSurface.FromRequest(request.Body);
        return RunAsync(request, surface, chat);
    }

    public Task ResponsesAsync(SimRequest request)
    {
        request.ErrorWriter = (status, message) => AbortAsync(request, status, ResponsesSurface.WriteError, message);
        var (surface, chat) = ResponsesSurface.FromRequest(request.Body, _time);
        return RunAsync(request, surface, chat);
    }

    public async Task TranscriptionsAsync(SimRequest request)
    {
        request.ErrorWriter = (status, message) => AbortAsync(request, status, ResponsesSurface.WriteError, message);
        var (surface, _, chat) = await TranscriptionSurface.FromRequestAsync(request).ConfigureAwait(false);
        await RunAsync(request, surface, chat).ConfigureAwait(false);
    }

    private Task RunAsync(SimRequest request, ChatSurface surface, byte[] chat)
    {
        request.ErrorWriter = (status, message) => surface.WriteErrorAsync(request.Http, status, message);
        return _inference.ChatAsync(request, chat, surface);
    }

    private static Task AbortAsync(SimRequest request, int status, Action<Utf8JsonWriter, int, string> envelope, string message) =>
        Responses.JsonAsync(request.Http, status, w => envelope(w, status, message));
}
