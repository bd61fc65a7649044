using Corral.Pipeline;

namespace Corral.OpenAi;

/// <summary>Maps the OpenAI-compatible API at <c>/v1</c> and, identically, <c>/ollama/v1</c>.</summary>
internal static class OpenAiApi
{
    public static void MapOpenAiApi(this IEndpointRouteBuilder routes)
    {
        Map(routes.MapGroup("/v1"));
        Map(routes.MapGroup("/ollama/v1"));
    }

    private static void Map(RouteGroupBuilder group)
    {
        var endpoints = ((IEndpointRouteBuilder)group).ServiceProvider.GetRequiredService<OpenAiEndpoints>();
        group.MapPost("/chat/completions", (RequestDelegate)endpoints.ChatAsync).WithMetadata(new SurfaceRoute("/v1/chat/completions"));
        group.MapPost("/completions", (RequestDelegate)endpoints.CompletionsAsync).WithMetadata(new SurfaceRoute("/v1/completions"));
        group.MapPost("/embeddings", (RequestDelegate)endpoints.EmbeddingsAsync).WithMetadata(new SurfaceRoute("/v1/embeddings"));
        group.MapGet("/models", (RequestDelegate)endpoints.ModelsAsync).WithMetadata(new SurfaceRoute("/v1/models"));
        // Model ids may hold slashes (namespaces, hosts): take the rest of the path.
        group.MapGet("/models/{**id}", (RequestDelegate)endpoints.ModelAsync).WithMetadata(new SurfaceRoute("/v1/models/{id}"));
    }
}
