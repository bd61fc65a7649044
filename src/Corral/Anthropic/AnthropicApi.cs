using Corral.Access;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Anthropic;

/// <summary>
/// Anthropic's Messages API at <c>/v1/messages</c> and, identically, <c>/ollama/v1/messages</c>: what Claude Code and
/// Anthropic's SDKs speak, and Ollama serves. The key may come as Anthropic's <c>x-api-key</c>; errors and rate
/// headers are Anthropic's, also for another method on the route (405) and a path below it Ollama does not serve
/// (404: <c>/v1/messages/count_tokens</c>, which Claude Code asks for and copes without).
/// </summary>
internal static class AnthropicApi
{
    public static void MapAnthropicApi(this IEndpointRouteBuilder routes)
    {
        var pipeline = routes.ServiceProvider.GetRequiredService<InferencePipeline>();
        var settings = routes.ServiceProvider.GetRequiredService<CorralSettings>();
        var rateHeaders = new AnthropicRateLimitHeaders(routes.ServiceProvider.GetRequiredService<TimeProvider>());
        foreach (var door in (string[])["/v1/messages", "/ollama/v1/messages"])
        {
            routes.MapPost(door, context => CompatibleInference.ServeAsync(context, pipeline, settings, Create, User))
                .WithMetadata(AnthropicErrors.Instance, KeyHeader.AnthropicApiKey, rateHeaders, new SurfaceRoute("/v1/messages"));
            routes.MapMethods(door, [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete], Unmatched("POST"))
                .WithMetadata(AnthropicErrors.Instance, KeyHeader.AnthropicApiKey, SurfaceRoute.Unmatched);
            routes.Map(door + "/{**rest}", Unmatched(null))
                .WithMetadata(AnthropicErrors.Instance, KeyHeader.AnthropicApiKey, SurfaceRoute.Unmatched);
        }
    }

    private static RequestDelegate Unmatched(string? allowed) =>
        context => ErrorWriter.WriteAsync(context, Native.NativeApi.Unmatched(context, allowed));

    private static MessagesInference Create(Forwarding.JsonRequestBody body, string model, string? session) =>
        new(body) { Model = model, UpstreamPath = "/v1/messages", Session = session };

    // Messages names the end user in metadata.user_id.
    private static string? User(System.Text.Json.JsonElement request) =>
        request.ValueKind == System.Text.Json.JsonValueKind.Object
        && request.TryGetProperty("metadata"u8, out var metadata) && metadata.ValueKind == System.Text.Json.JsonValueKind.Object
        && metadata.TryGetProperty("user_id"u8, out var user) && user.ValueKind == System.Text.Json.JsonValueKind.String
        && user.GetString() is { Length: > 0 } name ? name : null;
}
