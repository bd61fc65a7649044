using System.Text.Json;
using Corral.Access;
using Corral.Hosting;
using Corral.Storage;
using Corral.Usage;

namespace Corral.Admin;

/// <summary>
/// Keys under <c>/admin/api/keys</c>: create, list, show, change (only the fields sent), rotate with a grace
/// period, revoke; and <c>/admin/api/keys/me</c>, which any key may ask about itself. Secrets appear only in the
/// answers that create or rotate them.
/// </summary>
internal sealed class KeyEndpoints(KeyRing keys, UsageReport usage, CorralSettings settings, TimeProvider time)
{
    private const string RotateExample = """{"graceSeconds":3600}""";

    public async Task CreateAsync(HttpContext context)
    {
        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, KeyDefinitions.Example);
        if (document is null)
        {
            return;
        }

        var problems = new List<string>();
        if (KeyDefinitions.Read(document.RootElement, current: null, time.GetUtcNow(), problems) is not { } key)
        {
            await BadRequestAsync(context, problems);
            return;
        }

        var (created, secret) = await keys.CreateAsync(key, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status201Created;
        context.Response.Headers.Location = "/admin/api/keys/" + created.Id;
        await WriteAsync(context, Describe(created) with { Key = secret });
    }

    public async Task ListAsync(HttpContext context)
    {
        var list = (await keys.ListAsync(context.RequestAborted)).Select(Describe).ToArray();
        await context.Response.WriteAsJsonAsync(list, CorralJsonContext.Default.KeyResponseArray, cancellationToken: context.RequestAborted);
    }

    public async Task GetAsync(HttpContext context)
    {
        var id = Id(context);
        if (await keys.GetAsync(id, context.RequestAborted) is not { } key)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status404NotFound, $"no key with id '{id}'");
            return;
        }

        await WriteAsync(context, Describe(key));
    }

    public async Task PatchAsync(HttpContext context)
    {
        var id = Id(context);
        if (await RefuseConfiguredAsync(context, id, "changed"))
        {
            return;
        }

        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, """{"requestsPerMinute":120}""");
        if (document is null)
        {
            return;
        }

        var problems = new List<string>();
        var now = time.GetUtcNow();
        var updated = await keys.UpdateAsync(id, current => KeyDefinitions.Read(document.RootElement, current, now, problems) ?? current, context.RequestAborted);
        if (problems.Count > 0)
        {
            await BadRequestAsync(context, problems);
            return;
        }

        if (updated is null)
        {
            await NotFoundAsync(context, id);
            return;
        }

        await WriteAsync(context, Describe(updated));
    }

    public async Task RotateAsync(HttpContext context)
    {
        var id = Id(context);
        if (await RefuseConfiguredAsync(context, id, "rotated"))
        {
            return;
        }

        JsonDocument? document = null;
        if (context.Request.ContentLength is not 0 && (context.Request.ContentLength is not null || context.Request.Headers.TransferEncoding.Count > 0))
        {
            document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, RotateExample);
            if (document is null)
            {
                return;
            }
        }

        using (document)
        {
            var problems = new List<string>();
            if (KeyDefinitions.Grace(document?.RootElement, problems) is not { } grace)
            {
                await BadRequestAsync(context, problems);
                return;
            }

            if (await keys.RotateAsync(id, grace, context.RequestAborted) is not { } rotated)
            {
                await NotFoundAsync(context, id);
                return;
            }

            await WriteAsync(context, Describe(rotated.Key) with { Key = rotated.Secret, PreviousKeyValidUntil = rotated.Key.PreviousValidUntil });
        }
    }

    public async Task RevokeAsync(HttpContext context)
    {
        var id = Id(context);
        if (await RefuseConfiguredAsync(context, id, "revoked"))
        {
            return;
        }

        if (!await keys.RevokeAsync(id, context.RequestAborted))
        {
            await NotFoundAsync(context, id);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary><c>GET /admin/api/keys/me</c>: the calling key, what remains of each of its limits, and its usage today (UTC).</summary>
    public async Task MeAsync(HttpContext context)
    {
        var caller = context.Features.Get<Caller>()!;
        var stored = await keys.GetAsync(caller.KeyId, context.RequestAborted);
        var described = stored is null
            ? new KeyResponse(caller.KeyId, caller.KeyName, RoleName(caller.Role), null, [], null, null, null, null, null, caller.AssertsUsers, string.Empty, default, null, null, true)
            : Describe(stored);

        var now = time.GetUtcNow();
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var groups = await usage.QueryAsync(today, now, UsageGrouping.Key, bucket: null, context.RequestAborted);
        var mine = groups.FirstOrDefault(g => g.Group == caller.KeyId);
        var usedToday = new UsageTodayResponse(today.UtcDateTime, mine?.Requests ?? 0, mine?.Errors ?? 0, mine?.PromptTokens ?? 0, mine?.CompletionTokens ?? 0, mine?.TotalTokens ?? 0);

        await context.Response.WriteAsJsonAsync(
            new KeyMeResponse(described, Remaining(caller.State), usedToday),
            CorralJsonContext.Default.KeyMeResponse,
            cancellationToken: context.RequestAborted);
    }

    private static RemainingResponse Remaining(KeyState? state)
    {
        if (state is null)
        {
            return new RemainingResponse(null, null, null, null);
        }

        var rates = state.Status();
        return new RemainingResponse(
            Rate(rates.Requests),
            Rate(rates.TokensPerMinute),
            Rate(rates.TokensPerDay),
            state.Limits.MaxConcurrency is { } max ? new ConcurrencyResponse(max, state.Concurrency.InFlight) : null);
    }

    private static RateResponse? Rate(RateWindow? window) =>
        window is null ? null : new RateResponse(window.Limit, window.Remaining, Math.Round(window.Reset.TotalSeconds, 3));

    private KeyResponse Describe(StoredKey key) => new(
        key.Id,
        key.Name,
        RoleName(key.Role),
        key.Description,
        [.. key.Models],
        key.Limits.RequestsPerMinute,
        key.Limits.TokensPerMinute,
        key.Limits.TokensPerDay,
        key.Limits.MaxConcurrency,
        key.ExpiresAt,
        key.AssertsUsers,
        key.Hint,
        key.CreatedAt,
        key.LastUsedAt,
        key.RevokedAt,
        key.RevokedAt is null && (key.ExpiresAt is null || key.ExpiresAt > time.GetUtcNow()));

    private static async Task<bool> RefuseConfiguredAsync(HttpContext context, string id, string what)
    {
        if (id != KeyRing.ConfiguredAdminId)
        {
            return false;
        }

        await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status409Conflict, $"the key given by --admin-key or CORRAL_ADMIN_KEY cannot be {what} here; restart Corral with another");
        return true;
    }

    private static Task WriteAsync(HttpContext context, KeyResponse key) =>
        context.Response.WriteAsJsonAsync(key, CorralJsonContext.Default.KeyResponse, cancellationToken: context.RequestAborted);

    private static Task BadRequestAsync(HttpContext context, List<string> problems) =>
        ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));

    private static Task NotFoundAsync(HttpContext context, string id) =>
        ErrorResponses.WriteProblemAsync(context, StatusCodes.Status404NotFound, $"no active key with id '{id}'");

    private static string Id(HttpContext context) => (string)context.Request.RouteValues["id"]!;

    private static string RoleName(KeyRole role) => role.ToString().ToLowerInvariant();
}
