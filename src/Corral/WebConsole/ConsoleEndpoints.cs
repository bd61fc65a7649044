using Corral.Access;

namespace Corral.WebConsole;

/// <summary>
/// The web console at <c>/ui/</c>: its page and files need no key (they hold no data; everything shown comes from the
/// key-protected APIs) and carry a strict Content-Security-Policy (scripts and styles only from Corral, no inline
/// script, no framing). A browser that opens Corral's root without a key is sent to the console, while Ollama's
/// clients keep getting "Ollama is running".
/// </summary>
internal static class ConsoleEndpoints
{
    public const string Root = "/ui/";

    // Everything from Corral itself; connect-src 'self' for the APIs; data: images for the charts' legends.
    private const string Policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static void MapConsole(this IEndpointRouteBuilder routes)
    {
        var assets = routes.ServiceProvider.GetRequiredService<ConsoleAssets>();
        string[] getHead = [HttpMethods.Get, HttpMethods.Head];
        // One route for /ui and /ui/...: routing does not tell the two apart, and the page's relative links need the slash.
        routes.MapMethods("/ui/{**path}", getHead, context =>
        {
            if (context.Request.Path.Value == "/ui")
            {
                context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
                context.Response.Headers.Location = Root;
                return Task.CompletedTask;
            }

            return ServeAsync(context, assets, context.Request.RouteValues["path"] as string ?? "index.html");
        }).WithMetadata(new AnonymousEndpoint());
        routes.MapMethods("/favicon.ico", getHead, context => ServeAsync(context, assets, "favicon.svg")).WithMetadata(new AnonymousEndpoint());
    }

    /// <summary>
    /// Before routing's endpoints run: <c>GET /</c> from a browser (it accepts text/html) that sends no key goes to the
    /// console. Ollama's clients do not ask for HTML, and a request with a key is answered as ever.
    /// </summary>
    public static IApplicationBuilder UseConsoleRedirect(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var request = context.Request;
        if (request.Path.Value == "/" && HttpMethods.IsGet(request.Method) && request.Headers.Authorization.Count == 0
            && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = Root;
            return Task.CompletedTask;
        }

        return next(context);
    });

    private static Task ServeAsync(HttpContext context, ConsoleAssets assets, string path)
    {
        var response = context.Response;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (assets.Find(path.Length == 0 ? "index.html" : path) is not { } asset)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync($"no such file in the console: /ui/{path}", context.RequestAborted);
        }

        // Small files, revalidated on every load: a new Corral serves its own console at once.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        response.ContentType = asset.ContentType;
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.ContentLength = asset.Bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Bytes, context.RequestAborted).AsTask();
    }
}
