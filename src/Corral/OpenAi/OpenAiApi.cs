using Corral.Pipeline;

namespace Corral.OpenAi;

/// <summary>Maps the OpenAI-compatible API at <c>/v1</c> and, identically, <c>/ollama/v1</c>.</summary>
internal static class OpenAiApi
{
    /// <summary>The paths of the surface and the methods they take, for 405 answers with an <c>Allow</c> header.</summary>
    private static readonly Dictionary<string, string> s_methods = new(StringComparer.Ordinal)
    {
        ["/chat/completions"] = "POST",
        ["/completions"] = "POST",
        ["/embeddings"] = "POST",
        ["/responses"] = "POST",
        ["/audio/transcriptions"] = "POST",
        ["/models"] = "GET",
    };

    public static void MapOpenAiApi(this IEndpointRouteBuilder routes)
    {
        foreach (var door in (string[])["/v1", "/ollama/v1"])
        {
            var group = routes.MapGroup(door).WithMetadata(OpenAiErrors.Instance, RateLimitHeaders.Instance);
            Map(group);
            group.MapFallback("{*path}", (RequestDelegate)UnmatchedAsync).WithMetadata(SurfaceRoute.Unmatched);
        }
    }

    private static Task UnmatchedAsync(HttpContext context)
    {
        var rest = "/" + (context.Request.RouteValues["path"] as string ?? string.Empty).TrimEnd('/');
        var allowed = s_methods.GetValueOrDefault(rest) ?? (rest.StartsWith("/models/", StringComparison.Ordinal) ? "GET" : null);
        return ErrorWriter.WriteAsync(context, Native.NativeApi.Unmatched(context, allowed));
    }

    private static void Map(RouteGroupBuilder group)
    {
        var endpoints = ((IEndpointRouteBuilder)group).ServiceProvider.GetRequiredService<OpenAiEndpoints>();
        group.MapPost("/chat/completions", (RequestDelegate)endpoints.ChatAsync).WithMetadata(new SurfaceRoute("/v1/chat/completions"));
        group.MapPost("/completions", (RequestDelegate)endpoints.CompletionsAsync).WithMetadata(new SurfaceRoute("/v1/completions"));
        group.MapPost("/embeddings", (RequestDelegate)endpoints.EmbeddingsAsync).WithMetadata(new SurfaceRoute("/v1/embeddings"));
        group.MapPost("/responses", (RequestDelegate)endpoints.ResponsesAsync).WithMetadata(new SurfaceRoute("/v1/responses"));
        group.MapPost("/audio/transcriptions", (RequestDelegate)endpoints.TranscriptionsAsync).WithMetadata(new SurfaceRoute("/v1/audio/transcriptions"));
        group.MapGet("/models", (RequestDelegate)endpoints.ModelsAsync).WithMetadata(new SurfaceRoute("/v1/models"));
        // Model ids may hold slashes (namespaces, hosts): take the rest of the path.
        group.MapGet("/models/{**id}", (RequestDelegate)endpoints.ModelAsync).WithMetadata(new SurfaceRoute("/v1/models/{id}"));
    }
}
