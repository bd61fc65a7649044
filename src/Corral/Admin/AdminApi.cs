using System.Text.Json;
using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Admin;

/// <summary>The admin REST API under <c>/admin/api</c>: keys and backends. Errors are problem JSON.</summary>
internal static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder routes)
    {
        // Plain RequestDelegates over the singletons: no parameter binding, so the delegate factory (and the
        // expression-tree compiler it loads) stays out of the process.
        var services = routes.ServiceProvider;
        var keys = services.GetRequiredService<KeyRing>();
        var time = services.GetRequiredService<TimeProvider>();
        var fleet = services.GetRequiredService<BackendFleet>();
        var catalog = services.GetRequiredService<ModelCatalog>();

        var group = routes.MapGroup("/admin/api").WithMetadata(new AdminOnlyEndpoint());
        group.MapPost("/keys", context => CreateKeyAsync(context, keys, time));
        group.MapGet("/keys", context => ListKeysAsync(context, keys, time));
        group.MapDelete("/keys/{id}", context => RevokeKeyAsync(context, (string)context.Request.RouteValues["id"]!, keys));
        group.MapGet("/backends", context => ListBackendsAsync(context, fleet, catalog));
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
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, $"the body must be JSON like {{\"name\":\"laptop\",\"role\":\"user\"}}: {e.Message}");
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

        var (key, secret) = await keys.CreateAsync(name!, role, request!.ExpiresAt, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.Headers.Location = "/admin/api/keys/" + key.Id;
        await context.Response.WriteAsJsonAsync(
            new CreatedKeyResponse(key.Id, key.Name, RoleName(key.Role), secret, key.CreatedAt, key.ExpiresAt),
            CorralJsonContext.Default.CreatedKeyResponse,
            cancellationToken: context.RequestAborted);
    }

    private static async Task ListKeysAsync(HttpContext context, KeyRing keys, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var list = (await keys.ListAsync(context.RequestAborted))
            .Select(k => new KeyResponse(k.Id, k.Name, RoleName(k.Role), k.Hint, k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.RevokedAt is null && (k.ExpiresAt is null || k.ExpiresAt > now)))
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

    private static async Task ListBackendsAsync(HttpContext context, BackendFleet fleet, ModelCatalog catalog)
    {
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        var backends = fleet.All.Select(b =>
        {
            var listing = snapshot.Listings.FirstOrDefault(l => l.Backend == b);
            var models = snapshot.Models
                .SelectMany(m => m.Locations.Where(l => l.Backend == b).Select(_ => m.Name))
                .ToArray();
            return new BackendResponse(
                b.Name,
                b.BaseUrl,
                b.Enabled,
                b.Options.Prefix,
                [.. b.Options.Models],
                [.. b.Options.Tags],
                b.Options.Weight,
                b.MaxConcurrency,
                b.Options.Key is not null,
                b.Outstanding,
                listing is null ? null : new ListingResponse(listing.Ok, listing.Error, listing.LastSuccess, listing.CheckedAt),
                models);
        }).ToArray();
        var conflicts = snapshot.Conflicts
            .Select(c => new ConflictResponse(c.Model, c.Holders.Select(h => new ConflictHolder(h.Backend, h.Digest)).ToArray()))
            .ToArray();
        await context.Response.WriteAsJsonAsync(new BackendsResponse(backends, conflicts), CorralJsonContext.Default.BackendsResponse, cancellationToken: context.RequestAborted);
    }

    private static string RoleName(KeyRole role) => role.ToString().ToLowerInvariant();
}
