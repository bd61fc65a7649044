using System.Text.Json;
using Corral.Access;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Admin;

/// <summary>The admin REST API under <c>/admin/api</c>: keys, backends, loaded models and usage. Errors are problem JSON.</summary>
internal static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder routes)
    {
        // Plain RequestDelegates over the singletons: no parameter binding, so the delegate factory (and the
        // expression-tree compiler it loads) stays out of the process.
        var services = routes.ServiceProvider;
        var keys = services.GetRequiredService<KeyRing>();
        var time = services.GetRequiredService<TimeProvider>();
        var backends = services.GetRequiredService<FleetAdminEndpoints>();
        var unloader = services.GetRequiredService<ModelUnloader>();
        var usage = services.GetRequiredService<UsageEndpoints>();

        var group = routes.MapGroup("/admin/api").WithMetadata(new AdminOnlyEndpoint(), AdminErrors.Instance);
        // Errors of paths under /admin are problem JSON too: 405 with Allow for a path of the API, else 404.
        routes.MapFallback("/admin/{*path}", (RequestDelegate)UnmatchedAsync).WithMetadata(AdminErrors.Instance);
        group.MapPost("/keys", context => CreateKeyAsync(context, keys, time));
        group.MapGet("/keys", context => ListKeysAsync(context, keys, time));
        group.MapDelete("/keys/{id}", context => RevokeKeyAsync(context, (string)context.Request.RouteValues["id"]!, keys));
        group.MapGet("/backends", context => backends.ListAsync(context));
        group.MapPost("/backends", context => backends.AddAsync(context));
        group.MapPost("/backends/verify", context => backends.VerifyAsync(context));
        group.MapGet("/backends/{name}", context => backends.GetAsync(context));
        group.MapPut("/backends/{name}", context => backends.ReplaceAsync(context));
        group.MapDelete("/backends/{name}", context => backends.DeleteAsync(context));
        group.MapPost("/backends/{name}/enable", context => backends.EnableAsync(context));
        group.MapPost("/backends/{name}/disable", context => backends.DisableAsync(context));
        group.MapPost("/backends/{name}/drain", context => backends.DrainAsync(context));
        group.MapPost("/models/unload", context => unloader.UnloadAsync(context));
        group.MapGet("/usage", context => usage.UsageAsync(context));
        group.MapGet("/usage/requests", context => usage.RequestsAsync(context));
    }

    private static Task UnmatchedAsync(HttpContext context) => ErrorWriter.WriteAsync(context, Native.NativeApi.Unmatched(context, AllowedMethods(context)));

    /// <summary>
    /// The methods the admin API serves on the request's path (<c>"GET, POST"</c>), or null when it serves none
    /// there: a wrong method then gets 405 with <c>Allow</c>, not a 404. Only walked for unmatched requests.
    /// </summary>
    public static string? AllowedMethods(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/admin/api", StringComparison.Ordinal))
        {
            return null;
        }

        var methods = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.RoutePattern.RawText is not { } raw || !raw.StartsWith("/admin/api", StringComparison.Ordinal)
                || endpoint.Metadata.GetMetadata<IHttpMethodMetadata>() is not { } accepted)
            {
                continue;
            }

            var matcher = new Microsoft.AspNetCore.Routing.Template.TemplateMatcher(
                Microsoft.AspNetCore.Routing.Template.TemplateParser.Parse(raw), []);
            if (matcher.TryMatch(path, []))
            {
                methods.UnionWith(accepted.HttpMethods);
            }
        }

        return methods.Count == 0 ? null : string.Join(", ", methods);
    }

    private static async Task CreateKeyAsync(HttpContext context, KeyRing keys, TimeProvider time)
    {
        CreateKeyRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(context.Request.Body, CorralJsonContext.Default.CreateKeyRequest, context.RequestAborted);
        }
        catch (JsonException e)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, $"the body must be JSON like {{\"name\":\"laptop\",\"role\":\"user\",\"assertsUsers\":false}}: {e.Message}");
            return;
        }

        var problems = new List<string>();
        var name = request?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            problems.Add("\"name\" is required (1 to 100 characters)");
        }

        KeyRole role = KeyRole.User;
        if (request?.Role is not { } roleText || !Enum.TryParse(roleText, ignoreCase: true, out role) || !Enum.IsDefined(role))
        {
            problems.Add("\"role\" must be \"admin\" or \"user\"");
        }

        if (request?.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            problems.Add("\"expiresAt\" must be in the future");
        }

        if (problems.Count > 0)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));
            return;
        }

        var (key, secret) = await keys.CreateAsync(name!, role, request!.ExpiresAt, request.AssertsUsers ?? false, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.Headers.Location = "/admin/api/keys/" + key.Id;
        await context.Response.WriteAsJsonAsync(
            new CreatedKeyResponse(key.Id, key.Name, RoleName(key.Role), secret, key.CreatedAt, key.ExpiresAt, key.AssertsUsers),
            CorralJsonContext.Default.CreatedKeyResponse,
            cancellationToken: context.RequestAborted);
    }

    private static async Task ListKeysAsync(HttpContext context, KeyRing keys, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var list = (await keys.ListAsync(context.RequestAborted))
            .Select(k => new KeyResponse(k.Id, k.Name, RoleName(k.Role), k.Hint, k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.RevokedAt is null && (k.ExpiresAt is null || k.ExpiresAt > now), k.AssertsUsers))
            .ToArray();
        await context.Response.WriteAsJsonAsync(list, CorralJsonContext.Default.KeyResponseArray, cancellationToken: context.RequestAborted);
    }

    private static async Task RevokeKeyAsync(HttpContext context, string id, KeyRing keys)
    {
        if (id == KeyRing.ConfiguredAdminId)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status409Conflict, "the key given by --admin-key or CORRAL_ADMIN_KEY cannot be revoked here; restart Corral without it");
            return;
        }

        if (!await keys.RevokeAsync(id, context.RequestAborted))
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status404NotFound, $"no active key with id '{id}'");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static string RoleName(KeyRole role) => role.ToString().ToLowerInvariant();
}
