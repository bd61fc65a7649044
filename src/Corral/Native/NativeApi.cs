using Corral.Access;
using Corral.Admin;
using Corral.Pipeline;

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
    };

    public static void MapNativeApi(this IEndpointRouteBuilder routes)
    {
        Map(routes.MapGroup(string.Empty).WithMetadata(NativeErrors.Instance));
        Map(routes.MapGroup("/ollama").WithMetadata(NativeErrors.Instance));
        // Any other path is the native surface's: 405 with Allow for a known path, 404 otherwise.
        routes.MapFallback("{*path}", (RequestDelegate)UnmatchedAsync).WithMetadata(NativeErrors.Instance, SurfaceRoute.Unmatched);
    }

    private static void Map(RouteGroupBuilder group)
    {
        // Handlers are bound to the singleton endpoint objects as plain RequestDelegates: no parameter binding
        // and no per-request service scope on the hot path.
        var services = ((IEndpointRouteBuilder)group).ServiceProvider;
        var info = services.GetRequiredService<FleetInfoEndpoints>();
        var inference = services.GetRequiredService<InferenceEndpoints>();
        var management = services.GetRequiredService<ModelManagementEndpoints>();
        var blobs = services.GetRequiredService<BlobEndpoints>();

        string[] getHead = [HttpMethods.Get, HttpMethods.Head];
        group.MapMethods("/", getHead, (RequestDelegate)FleetInfoEndpoints.RootAsync).WithMetadata(new SurfaceRoute("/"));
        group.MapMethods("/api/version", getHead, (RequestDelegate)info.VersionAsync).WithMetadata(new SurfaceRoute("/api/version"));
        group.MapMethods("/api/tags", getHead, (RequestDelegate)info.TagsAsync).WithMetadata(new SurfaceRoute("/api/tags"));
        group.MapGet("/api/ps", (RequestDelegate)info.PsAsync).WithMetadata(new SurfaceRoute("/api/ps"));

        group.MapPost("/api/show", (RequestDelegate)inference.ShowAsync).WithMetadata(new SurfaceRoute("/api/show"));
        group.MapPost("/api/generate", (RequestDelegate)inference.GenerateAsync).WithMetadata(new SurfaceRoute("/api/generate"));
        group.MapPost("/api/chat", (RequestDelegate)inference.ChatAsync).WithMetadata(new SurfaceRoute("/api/chat"));
        group.MapPost("/api/embed", (RequestDelegate)inference.EmbedAsync).WithMetadata(new SurfaceRoute("/api/embed"));
        group.MapPost("/api/embeddings", (RequestDelegate)inference.EmbeddingsAsync).WithMetadata(new SurfaceRoute("/api/embeddings"));

        var admin = group.MapGroup(string.Empty).WithMetadata(new AdminOnlyEndpoint());
        admin.MapPost("/api/pull", (RequestDelegate)management.PullAsync).WithMetadata(new SurfaceRoute("/api/pull"), new AuditedAction("model.pull"));
        admin.MapPost("/api/push", (RequestDelegate)management.PushAsync).WithMetadata(new SurfaceRoute("/api/push"), new AuditedAction("model.push"));
        admin.MapPost("/api/create", (RequestDelegate)management.CreateAsync).WithMetadata(new SurfaceRoute("/api/create"), new AuditedAction("model.create"));
        admin.MapPost("/api/copy", (RequestDelegate)management.CopyAsync).WithMetadata(new SurfaceRoute("/api/copy"), new AuditedAction("model.copy"));
        admin.MapDelete("/api/delete", (RequestDelegate)management.DeleteAsync).WithMetadata(new SurfaceRoute("/api/delete"), new AuditedAction("model.delete"));
        admin.MapMethods("/api/blobs/{digest}", [HttpMethods.Head], (RequestDelegate)blobs.HeadAsync).WithMetadata(new SurfaceRoute("/api/blobs/{digest}"));
        admin.MapPost("/api/blobs/{digest}", (RequestDelegate)blobs.PostAsync).WithMetadata(new SurfaceRoute("/api/blobs/{digest}"));
    }

    /// <summary>Answers a native path no endpoint matched: 405 for a known path with another method, else 404.</summary>
    public static Task UnmatchedAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith("/ollama/", StringComparison.Ordinal) || path == "/ollama")
        {
            path = path.Length == 7 ? "/" : path[7..];
        }

        var known = path.StartsWith("/api/blobs/", StringComparison.Ordinal) ? "/api/blobs" : path.TrimEnd('/') is { Length: > 0 } p ? p : "/";
        return ErrorWriter.WriteAsync(context, Unmatched(context, Methods.GetValueOrDefault(known)));
    }

    /// <summary>
    /// The answer to a path no endpoint of its surface matched: 405 with Allow when the path takes other methods, else
    /// 404. The path is put into words with any key in it masked (<c>/k/…</c>), since the words are recorded.
    /// </summary>
    public static ProxyError Unmatched(HttpContext context, string? allowed)
    {
        var path = KeyInPath.Mask(context.Request.Path.Value ?? "/");
        return allowed is null
            ? ProxyError.NotFound($"no such route: {context.Request.Method} {path}")
            : ProxyError.MethodNotAllowed($"method {context.Request.Method} is not allowed on {path}; use {allowed}", allowed);
    }
}
