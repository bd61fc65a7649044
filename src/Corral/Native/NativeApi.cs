using Corral.Access;

namespace Corral.Native;

/// <summary>Maps Ollama's native API at <c>/</c> and, identically, under <c>/ollama</c> (where Open WebUI puts it).</summary>
internal static class NativeApi
{
    /// <summary>Every native path and the methods it answers, for 405 answers with an <c>Allow</c> header.</summary>
    public static readonly IReadOnlyDictionary<string, string> Methods = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["/"] = "GET, HEAD",
        ["/api/version"] = "GET, HEAD",
        ["/api/tags"] = "GET, HEAD",
        ["/api/ps"] = "GET",
        ["/api/show"] = "POST",
        ["/api/generate"] = "POST",
        ["/api/chat"] = "POST",
        ["/api/embed"] = "POST",
        ["/api/embeddings"] = "POST",
        ["/api/pull"] = "POST",
        ["/api/push"] = "POST",
        ["/api/create"] = "POST",
        ["/api/copy"] = "POST",
        ["/api/delete"] = "DELETE",
        ["/api/blobs"] = "HEAD, POST",
        ["/v1/chat/completions"] = "POST",
        ["/v1/completions"] = "POST",
        ["/v1/embeddings"] = "POST",
        ["/v1/models"] = "GET",
    };

    public static void MapNativeApi(this IEndpointRouteBuilder routes)
    {
        Map(routes.MapGroup(string.Empty));
        Map(routes.MapGroup("/ollama"));
    }

    private static void Map(RouteGroupBuilder group)
    {
        string[] getHead = [HttpMethods.Get, HttpMethods.Head];
        group.MapMethods("/", getHead, FleetInfoEndpoints.RootAsync);
        group.MapMethods("/api/version", getHead, (HttpContext c, FleetInfoEndpoints e) => e.VersionAsync(c));
        group.MapMethods("/api/tags", getHead, (HttpContext c, FleetInfoEndpoints e) => e.TagsAsync(c));
        group.MapGet("/api/ps", (HttpContext c, FleetInfoEndpoints e) => e.PsAsync(c));

        group.MapPost("/api/show", (HttpContext c, InferenceEndpoints e) => e.ShowAsync(c));
        group.MapPost("/api/generate", (HttpContext c, InferenceEndpoints e) => e.GenerateAsync(c));
        group.MapPost("/api/chat", (HttpContext c, InferenceEndpoints e) => e.ChatAsync(c));
        group.MapPost("/api/embed", (HttpContext c, InferenceEndpoints e) => e.EmbedAsync(c));
        group.MapPost("/api/embeddings", (HttpContext c, InferenceEndpoints e) => e.EmbeddingsAsync(c));

        var admin = group.MapGroup(string.Empty).WithMetadata(new AdminOnlyEndpoint());
        admin.MapPost("/api/pull", (HttpContext c, ModelManagementEndpoints e) => e.PullAsync(c));
        admin.MapPost("/api/push", (HttpContext c, ModelManagementEndpoints e) => e.PushAsync(c));
        admin.MapPost("/api/create", (HttpContext c, ModelManagementEndpoints e) => e.CreateAsync(c));
        admin.MapPost("/api/copy", (HttpContext c, ModelManagementEndpoints e) => e.CopyAsync(c));
        admin.MapDelete("/api/delete", (HttpContext c, ModelManagementEndpoints e) => e.DeleteAsync(c));
        admin.MapMethods("/api/blobs/{digest}", [HttpMethods.Head], (HttpContext c, string digest, BlobEndpoints e) => e.HeadAsync(c, digest));
        admin.MapPost("/api/blobs/{digest}", (HttpContext c, string digest, BlobEndpoints e) => e.PostAsync(c, digest));
    }

    /// <summary>Answers a path no endpoint matched: 405 for a known path with another method, else 404.</summary>
    public static Task UnmatchedAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/ollama/", StringComparison.Ordinal) || path == "/ollama")
        {
            path = path.Length == 7 ? "/" : path[7..];
        }

        var known = path.StartsWith("/api/blobs/", StringComparison.Ordinal) ? "/api/blobs" : path.TrimEnd('/') is { Length: > 0 } p ? p : "/";
        if (Methods.TryGetValue(known, out var allowed))
        {
            context.Response.Headers.Allow = allowed;
            return Hosting.ErrorResponses.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, $"method {context.Request.Method} is not allowed on {context.Request.Path}; use {allowed}");
        }

        return Hosting.ErrorResponses.WriteAsync(context, StatusCodes.Status404NotFound, $"no such route: {context.Request.Method} {context.Request.Path}");
    }
}
