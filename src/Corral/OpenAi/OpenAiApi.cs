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
        group.MapPost("/chat/completions", (RequestDelegate)endpoints.ChatAsync);
        group.MapPost("/completions", (RequestDelegate)endpoints.CompletionsAsync);
        group.MapPost("/embeddings", (RequestDelegate)endpoints.EmbeddingsAsync);
        group.MapGet("/models", (RequestDelegate)endpoints.ModelsAsync);
        // Model ids may hold slashes (namespaces, hosts): take the rest of the path.
        group.MapGet("/models/{**id}", (RequestDelegate)endpoints.ModelAsync);
    }
}
