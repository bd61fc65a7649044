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
        group.MapPost("/chat/completions", (HttpContext c, OpenAiEndpoints e) => e.ChatAsync(c));
        group.MapPost("/completions", (HttpContext c, OpenAiEndpoints e) => e.CompletionsAsync(c));
        group.MapPost("/embeddings", (HttpContext c, OpenAiEndpoints e) => e.EmbeddingsAsync(c));
        group.MapGet("/models", (HttpContext c, OpenAiEndpoints e) => e.ModelsAsync(c));
        // Model ids may hold slashes (namespaces, hosts): take the rest of the path.
        group.MapGet("/models/{**id}", (HttpContext c, string id, OpenAiEndpoints e) => e.ModelAsync(c, id));
    }
}
