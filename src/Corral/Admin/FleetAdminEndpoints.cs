using System.Text.Json;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Admin;

/// <summary>
/// The fleet under <c>/admin/api/backends</c>: list and show backends with their live state; add, replace and
/// delete backends (those added here are stored; those of the configuration are changed there); enable, disable
/// and drain any backend; and check a server before adding it.
/// </summary>
internal sealed class FleetAdminEndpoints(
    BackendFleet fleet,
    ModelCatalog catalog,
    SlotScheduler scheduler,
    ApiBackends apiBackends,
    ListingClient listing,
    CorralSettings settings,
    TimeProvider time)
{
    private const string VerifyExample = """{"url":"http://10.0.0.7:11434"}""";
    private static readonly string[] s_verifyFields = ["url", "key"];


    private enum Switch
    {
        Enable,
        Disable,
        Drain,
    }


    public async Task ListAsync(HttpContext context) => await context.Response.WriteAsJsonAsync(
        await DescribeAllAsync(context.RequestAborted),
        CorralJsonContext.Default.BackendsResponse,
        cancellationToken: context.RequestAborted);

    /// <summary>The answer of <c>GET /admin/api/backends</c> (also each event of <c>GET /admin/api/events</c>).</summary>
    public async Task<BackendsResponse> DescribeAllAsync(CancellationToken cancellationToken)
    {
        var snapshot = await catalog.GetAsync(cancellationToken);
        var now = time.GetUtcNow();
        var backends = fleet.All.Select(b => Describe(b, snapshot, now)).ToArray();
        var conflicts = snapshot.Conflicts
            .Select(c => new ConflictResponse(c.Model, c.Holders.Select(h => new ConflictHolder(h.Backend, h.Digest)).ToArray()))
            .ToArray();
        return new BackendsResponse(backends, scheduler.QueueDepth, conflicts);
    }

    public async Task GetAsync(HttpContext context)
    {
        if (await FindAsync(context) is { } backend)
        {
            await WriteAsync(context, StatusCodes.Status200OK, backend);
        }
    }

    public async Task AddAsync(HttpContext context)
    {
        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, BackendDefinitions.Example);
        if (document is null)
        {
            return;
        }

        var problems = new List<string>();
        var options = BackendDefinitions.Read(document.RootElement, AdminBody.Where, problems);
        if (options is null)
        {
            await BadRequestAsync(context, problems);
            return;
        }

        Backend added;
        await apiBackends.Changes.WaitAsync(context.RequestAborted);
        try
        {
            if (apiBackends.ConflictOf(options, self: null) is { } conflict)
            {
                await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status409Conflict, conflict);
                return;
            }

            // Stored first: a backend that could not be stored would silently vanish at the next restart. Not
            // cancelled by the client leaving, so that the store and the fleet never disagree.
            await apiBackends.SaveAsync(options, CancellationToken.None);
            if (!fleet.TryAdd(options, out added, BackendOrigin.Api))
            {
                // A configuration reload took the name meanwhile.
                await apiBackends.DeleteAsync(options.Name, CancellationToken.None);
                await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status409Conflict, ApiBackends.NameTaken(added));
                return;
            }
        }
        finally
        {
            apiBackends.Changes.Release();
        }

        context.Response.Headers.Location = "/admin/api/backends/" + Uri.EscapeDataString(added.Name);
        await WriteAsync(context, StatusCodes.Status201Created, added);
    }

    public async Task ReplaceAsync(HttpContext context)
    {
        if (await FindChangeableAsync(context) is not { } backend)
        {
            return;
        }

        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, BackendDefinitions.Example);
        if (document is null)
        {
            return;
        }

        var problems = new List<string>();
        var body = document.RootElement;
        var options = BackendDefinitions.Read(body, AdminBody.Where, problems);
        if (body.TryGetProperty("name", out var given) && given.ValueKind == JsonValueKind.String
            && !string.Equals(given.GetString(), backend.Name, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"{AdminBody.Where}: \"name\" is '{given.GetString()}' but the path names '{backend.Name}'; a backend cannot be renamed (add one under the new name, then delete this one)");
        }

        if (options is null || problems.Count > 0)
        {
            await BadRequestAsync(context, problems);
            return;
        }

        options = options with { Name = backend.Name };
        Backend? updated;
        await apiBackends.Changes.WaitAsync(context.RequestAborted);
        try
        {
            if (apiBackends.ConflictOf(options, self: backend) is { } conflict)
            {
                await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status409Conflict, conflict);
                return;
            }

            updated = null;
            if (fleet.Find(backend.Name) is not null)
            {
                await apiBackends.SaveAsync(options, CancellationToken.None);
                // The same URL keeps the backend object, so requests it is serving carry on; a new URL drains the old one.
                updated = fleet.Update(backend.Name, options);
            }
        }
        finally
        {
            apiBackends.Changes.Release();
        }

        if (updated is null)
        {
            await NotFoundAsync(context, backend.Name);
            return;
        }

        await WriteAsync(context, StatusCodes.Status200OK, updated);
    }

    public async Task DeleteAsync(HttpContext context)
    {
        if (await FindChangeableAsync(context) is not { } backend)
        {
            return;
        }

        await apiBackends.Changes.WaitAsync(context.RequestAborted);
        try
        {
            await apiBackends.DeleteAsync(backend.Name, CancellationToken.None);
            // Removed from the fleet, the backend drains: what it is serving finishes, nothing new is sent to it.
            fleet.Remove(backend.Name);
        }
        finally
        {
            apiBackends.Changes.Release();
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    public Task EnableAsync(HttpContext context) => SwitchAsync(context, Switch.Enable);

    public Task DisableAsync(HttpContext context) => SwitchAsync(context, Switch.Disable);

    public Task DrainAsync(HttpContext context) => SwitchAsync(context, Switch.Drain);

    public async Task VerifyAsync(HttpContext context)
    {
        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, VerifyExample);
        if (document is null)
        {
            return;
        }

        var body = document.RootElement;
        var problems = new List<string>();
        AdminBody.CheckFields(body, s_verifyFields, problems);
        var key = ConfigFile.ReadString(body, "key", AdminBody.Where, problems);
        BackendDefinitions.CheckKey(key, AdminBody.Where, problems);
        var urlText = ConfigFile.ReadString(body, "url", AdminBody.Where, problems);
        Uri? url = null;
        if (urlText is not null)
        {
            url = BackendUrl.TryParse(urlText, out var urlProblem);
            if (url is null)
            {
                problems.Add($"{AdminBody.Where}: url {urlProblem}");
            }
        }
        else if (!AdminBody.Has(body, "url"))
        {
            problems.Add($"{AdminBody.Where}: \"url\" is required");
        }

        if (url is null || problems.Count > 0)
        {
            await BadRequestAsync(context, problems);
            return;
        }

        // A backend that exists only for this check: the same client, Host header, key and timeouts as a real one.
        var probe = new Backend(new BackendOptions { Name = "verify", Url = url, Key = key is "" ? null : key }, settings);
        var asked = VerifyAsync(probe, context.RequestAborted);
        var report = await Doctor.DoctorRun.RunAsync(
            [new(url.ToString(), probe.Options.Key)], fleet: true, [], Doctor.BackendDoctor.MaxTime, Doctor.BackendDoctor.Environment, Environment.GetEnvironmentVariable, context.RequestAborted);
        var target = report.Targets[0];
        var answer = await asked with { Status = target.Status, Checks = target.Checks, Found = target.Found };
        await context.Response.WriteAsJsonAsync(answer, CorralJsonContext.Default.VerifyResponse, cancellationToken: context.RequestAborted);
    }

    private async Task<VerifyResponse> VerifyAsync(Backend probe, CancellationToken cancellationToken)
    {
        string version;
        var versionResult = await listing.GetAsync(probe, "/api/version", cancellationToken);
        if (versionResult.Document is not { } versionDocument)
        {
            return Failed(versionResult.Error!);
        }

        using (versionDocument)
        {
            if (versionDocument.RootElement.ValueKind != JsonValueKind.Object
                || !versionDocument.RootElement.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.String)
            {
                return Failed("answered GET /api/version without a \"version\" (is this an Ollama server?)");
            }

            version = v.GetString()!;
        }

        var tagsResult = await listing.GetAsync(probe, "/api/tags", cancellationToken);
        if (tagsResult.Document is not { } tagsDocument)
        {
            return Failed(tagsResult.Error!);
        }

        using (tagsDocument)
        {
            if (tagsDocument.RootElement.ValueKind != JsonValueKind.Object
                || !tagsDocument.RootElement.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Array)
            {
                return Failed("answered GET /api/tags without a \"models\" list (is this an Ollama server?)");
            }

            return new VerifyResponse(Ok: true, version, models.GetArrayLength(), Error: null, Doctor.CheckStatus.Ok, [], []);
        }

        static VerifyResponse Failed(string error) => new(Ok: false, Version: null, Models: null, error, Doctor.CheckStatus.Fail, [], []);
    }

    private async Task SwitchAsync(HttpContext context, Switch change)
    {
        if (await FindAsync(context) is not { } backend)
        {
            return;
        }

        Backend? result;
        await apiBackends.Changes.WaitAsync(context.RequestAborted);
        try
        {
            if (change == Switch.Drain)
            {
                // In-flight requests hold the backend and finish; the scheduler sends nothing new here.
                backend.Draining = true;
                fleet.NotifyChanged();
                result = backend;
            }
            else
            {
                var enabled = change == Switch.Enable;
                var options = backend.Options with { Enabled = enabled };
                if (backend.Origin == BackendOrigin.Api)
                {
                    await apiBackends.SaveAsync(options, CancellationToken.None);
                }

                if (enabled)
                {
                    backend.Draining = false;
                }

                // Update raises Changed: the catalog lists the fleet again and waiting requests look again.
                result = fleet.Update(backend.Name, options);
            }
        }
        finally
        {
            apiBackends.Changes.Release();
        }

        if (result is null)
        {
            await NotFoundAsync(context, backend.Name);
            return;
        }

        await WriteAsync(context, StatusCodes.Status200OK, result);
    }

    private async Task<Backend?> FindAsync(HttpContext context)
    {
        var name = (string)context.Request.RouteValues["name"]!;
        if (fleet.Find(name) is { } backend)
        {
            return backend;
        }

        await NotFoundAsync(context, name);
        return null;
    }

    /// <summary>The named backend if the admin API may replace or delete it; otherwise answers 404 or 409.</summary>
    private async Task<Backend?> FindChangeableAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } backend)
        {
            return null;
        }

        if (backend.Origin == BackendOrigin.Configuration)
        {
            await ErrorResponses.WriteProblemAsync(
                context,
                StatusCodes.Status409Conflict,
                $"backend '{backend.Name}' is defined in Corral's configuration (the --config file, --backend or OLLAMA_BASE_URLS), not through this API: "
                + "change it there (the configuration file is reloaded automatically). Only backends added here can be replaced or deleted here; "
                + "enable, disable and drain work on every backend.");
            return null;
        }

        return backend;
    }

    private Task NotFoundAsync(HttpContext context, string name)
    {
        var names = fleet.All.Select(b => b.Name).ToArray();
        return ErrorResponses.WriteProblemAsync(
            context,
            StatusCodes.Status404NotFound,
            names.Length == 0 ? $"no backend named '{name}' (there are none)" : $"no backend named '{name}' (the backends are: {string.Join(", ", names)})");
    }

    private static Task BadRequestAsync(HttpContext context, List<string> problems) =>
        ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));

    private async Task WriteAsync(HttpContext context, int status, Backend backend)
    {
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(
            Describe(backend, snapshot, time.GetUtcNow()),
            CorralJsonContext.Default.BackendResponse,
            cancellationToken: context.RequestAborted);
    }

    private BackendResponse Describe(Backend backend, CatalogSnapshot snapshot, DateTimeOffset now)
    {
        var listed = snapshot.Listings.FirstOrDefault(l => l.Backend == backend);
        var models = snapshot.Models
            .SelectMany(m => m.Locations.Where(l => l.Backend == backend).Select(_ => m.Name))
            .ToArray();
        var options = backend.Options;
        var health = backend.Health;
        return new BackendResponse(
            backend.Name,
            backend.BaseUrl,
            backend.State.ToString().ToLowerInvariant(),
            backend.Origin.ToString().ToLowerInvariant(),
            backend.Enabled,
            options.Prefix,
            [.. options.Models],
            [.. options.Tags],
            options.Weight,
            options.Priority,
            backend.MaxConcurrency,
            new TimeoutsResponse(backend.ConnectTimeout.TotalSeconds, backend.FirstByteTimeout.TotalSeconds, backend.IdleTimeout.TotalSeconds),
            options.Key is not null,
            backend.Outstanding,
            scheduler.QueueDepthOf(backend),
            backend.Loaded.Snapshot(now).Select(l => new LoadedModelResponse(l.ModelKey, l.Until)).ToArray(),
            health.LatencyMs is { } latency ? Math.Round(latency, 1) : null,
            health.LastError,
            health.LastErrorAt,
            health.Diagnosis,
            health.ConsecutiveFailures,
            listed is null ? null : new ListingResponse(listed.Ok, listed.Error, listed.LastSuccess, listed.CheckedAt),
            models);
    }
}
