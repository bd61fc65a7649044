using Corral.Access;
using Corral.Pipeline;

namespace Corral.Admin;

/// <summary>The admin REST API under <c>/admin/api</c>: keys, backends (also as a stream of events), loaded models, usage and audit. Errors are problem JSON.</summary>
internal static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder routes)
    {
        // Plain RequestDelegates over the singletons: no parameter binding, so the delegate factory (and the
        // expression-tree compiler it loads) stays out of the process.
        var services = routes.ServiceProvider;
        var keys = services.GetRequiredService<KeyEndpoints>();
        var backends = services.GetRequiredService<FleetAdminEndpoints>();
        var unloader = services.GetRequiredService<ModelUnloader>();
        var usage = services.GetRequiredService<UsageEndpoints>();
        var audit = services.GetRequiredService<AuditEndpoints>();
        var doctor = services.GetRequiredService<DoctorEndpoints>();
        var events = services.GetRequiredService<FleetEvents>();
        var presets = services.GetRequiredService<PresetEndpoints>();

        var group = routes.MapGroup("/admin/api").WithMetadata(new AdminOnlyEndpoint(), AdminErrors.Instance);
        // Errors of paths under /admin are problem JSON too: 405 with Allow for a path of the API, else 404.
        routes.MapFallback("/admin/{*path}", (RequestDelegate)UnmatchedAsync).WithMetadata(AdminErrors.Instance);
        // Any key may ask about itself; the rest of the API is for admin keys.
        routes.MapGet("/admin/api/keys/me", keys.MeAsync).WithMetadata(AdminErrors.Instance);
        group.MapPost("/keys", keys.CreateAsync).WithMetadata(new AuditedAction("key.create"));
        group.MapGet("/keys", keys.ListAsync);
        group.MapGet("/keys/{id}", keys.GetAsync);
        group.MapPatch("/keys/{id}", keys.PatchAsync).WithMetadata(new AuditedAction("key.update"));
        group.MapPost("/keys/{id}/rotate", keys.RotateAsync).WithMetadata(new AuditedAction("key.rotate"));
        group.MapDelete("/keys/{id}", keys.RevokeAsync).WithMetadata(new AuditedAction("key.revoke"));
        group.MapGet("/backends", backends.ListAsync);
        group.MapGet("/events", events.StreamAsync);
        group.MapPost("/backends", backends.AddAsync).WithMetadata(new AuditedAction("backend.add"));
        group.MapPost("/backends/verify", backends.VerifyAsync);
        group.MapGet("/backends/{name}", backends.GetAsync);
        group.MapPut("/backends/{name}", backends.ReplaceAsync).WithMetadata(new AuditedAction("backend.replace"));
        group.MapDelete("/backends/{name}", backends.DeleteAsync).WithMetadata(new AuditedAction("backend.remove"));
        group.MapPost("/backends/{name}/enable", backends.EnableAsync).WithMetadata(new AuditedAction("backend.enable"));
        group.MapPost("/backends/{name}/disable", backends.DisableAsync).WithMetadata(new AuditedAction("backend.disable"));
        group.MapPost("/backends/{name}/drain", backends.DrainAsync).WithMetadata(new AuditedAction("backend.drain"));
        group.MapGet("/presets", presets.ListAsync);
        group.MapPost("/presets", presets.CreateAsync).WithMetadata(new AuditedAction("preset.add"));
        group.MapGet("/presets/{**name}", presets.GetAsync);
        group.MapPut("/presets/{**name}", presets.ReplaceAsync).WithMetadata(new AuditedAction("preset.replace"));
        group.MapDelete("/presets/{**name}", presets.DeleteAsync).WithMetadata(new AuditedAction("preset.remove"));
        group.MapPost("/models/unload", unloader.UnloadAsync).WithMetadata(new AuditedAction("model.unload"));
        group.MapGet("/usage", usage.UsageAsync);
        group.MapGet("/usage/requests", usage.RequestsAsync);
        group.MapGet("/audit", audit.ListAsync);
        group.MapGet("/doctor", doctor.RunAsync);
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

}
