using System.Text.Json;
using Corral.Catalog;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Admin;

/// <summary>
/// Model presets under <c>/admin/api/presets</c>: list and show them (with what is wrong with each, in words); add,
/// replace and delete those of the API (stored; those of the configuration file are changed there). A preset is
/// refused when its name is a model a backend lists, when its base is not one, or when its base is a preset.
/// </summary>
internal sealed class PresetEndpoints(Presets presets, ApiPresets apiPresets, ModelCatalog catalog, CorralSettings settings)
{
    public async Task ListAsync(HttpContext context)
    {
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        var all = presets.All;
        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, "application/json", (all, snapshot), static (writer, state) =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("presets");
            foreach (var preset in state.all)
            {
                Write(writer, preset, state.snapshot);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public async Task GetAsync(HttpContext context)
    {
        if (await FindAsync(context) is { } preset)
        {
            await WriteAsync(context, StatusCodes.Status200OK, preset);
        }
    }

    public async Task CreateAsync(HttpContext context)
    {
        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, PresetDefinitions.Example);
        if (document is null)
        {
            return;
        }

        var problems = new List<string>();
        var preset = PresetDefinitions.Read(document.RootElement, AdminBody.Where, problems, PresetOrigin.Api);
        if (preset is null)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));
            return;
        }

        if (!await SaveAsync(context, preset, adding: true))
        {
            return;
        }

        context.Response.Headers.Location = "/admin/api/presets/" + Uri.EscapeDataString(preset.Name);
        await WriteAsync(context, StatusCodes.Status201Created, preset);
    }

    public async Task ReplaceAsync(HttpContext context)
    {
        if (await FindChangeableAsync(context) is not { } current)
        {
            return;
        }

        using var document = await AdminBody.ReadAsync(context, settings.MaxBodyBytes, PresetDefinitions.Example);
        if (document is null)
        {
            return;
        }

        var problems = new List<string>();
        var preset = PresetDefinitions.Read(document.RootElement, AdminBody.Where, problems, PresetOrigin.Api, named: current.Name);
        if (preset is null)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, string.Join("; ", problems));
            return;
        }

        if (await SaveAsync(context, preset, adding: false))
        {
            await WriteAsync(context, StatusCodes.Status200OK, preset);
        }
    }

    public async Task DeleteAsync(HttpContext context)
    {
        if (await FindChangeableAsync(context) is not { } preset)
        {
            return;
        }

        await apiPresets.Changes.WaitAsync(context.RequestAborted);
        try
        {
            await apiPresets.DeleteAsync(preset.Name, CancellationToken.None);
        }
        finally
        {
            apiPresets.Changes.Release();
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    // Stores the preset unless its name is taken (adding) or the catalog cannot take it; false after a problem answer.
    private async Task<bool> SaveAsync(HttpContext context, ModelPreset preset, bool adding)
    {
        await apiPresets.Changes.WaitAsync(context.RequestAborted);
        try
        {
            if (adding && presets.Find(preset.Name) is { } existing)
            {
                await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status409Conflict, existing.Origin == PresetOrigin.Api
                    ? $"a preset named '{existing.Name}' already exists; choose another \"name\" (or PUT /admin/api/presets/{existing.Name} to change that one)"
                    : $"a preset named '{existing.Name}' already exists (in the configuration file); choose another \"name\"");
                return false;
            }

            if (await RefusalAsync(context, preset) is { } refusal)
            {
                await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, refusal);
                return false;
            }

            // Not cancelled by the client leaving, so that the store and the presets in force never disagree.
            await apiPresets.SaveAsync(preset, CancellationToken.None);
            return true;
        }
        finally
        {
            apiPresets.Changes.Release();
        }
    }

    // Why the catalog cannot take the preset as it is now, in words; null when it can.
    private async Task<string?> RefusalAsync(HttpContext context, ModelPreset preset)
    {
        // Matches, not models: a name of a preset resolves to the preset's base, which is no clash.
        if (await catalog.MatchAsync(preset.Name, context.RequestAborted) is { Preset: null, Model: { } model })
        {
            return $"'{preset.Name}' is the name of the model '{model.Name}' that {string.Join(", ", model.Holders.Select(b => b.Name))} list(s); a preset needs a name of its own";
        }

        if (presets.Find(preset.Model) is { } other)
        {
            return $"the base '{preset.Model}' is the preset '{other.Name}'; a preset's \"model\" is a model the backends list";
        }

        return await catalog.MatchAsync(preset.Model, context.RequestAborted) is not { Preset: null, Model: not null }
            ? $"the base '{preset.Model}' is not a model any backend lists (GET /api/tags shows the models)"
            : null;
    }

    private async Task<ModelPreset?> FindAsync(HttpContext context)
    {
        // The rest of the path: a preset's name may hold slashes (acme/support-bot), sent as they are or as %2F, which
        // the server leaves encoded in the path.
        var name = ((string)context.Request.RouteValues["name"]!).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        if (presets.Find(name) is { } preset)
        {
            return preset;
        }

        var names = presets.All.Select(p => p.Name).ToArray();
        await ErrorResponses.WriteProblemAsync(
            context,
            StatusCodes.Status404NotFound,
            names.Length == 0 ? $"no preset named '{name}' (there are none)" : $"no preset named '{name}' (the presets are: {string.Join(", ", names)})");
        return null;
    }

    private async Task<ModelPreset?> FindChangeableAsync(HttpContext context)
    {
        if (await FindAsync(context) is not { } preset)
        {
            return null;
        }

        if (preset.Origin == PresetOrigin.Config)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status409Conflict, $"preset '{preset.Name}' is defined in Corral's configuration file, not through this API: change it there");
            return null;
        }

        return preset;
    }

    private async Task WriteAsync(HttpContext context, int status, ModelPreset preset)
    {
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        await JsonAnswer.WriteAsync(context, status, "application/json", (preset, snapshot), static (writer, state) => Write(writer, state.preset, state.snapshot));
    }

    // The definition, where it comes from, its base as the catalog finds it, and what is wrong with it.
    private static void Write(Utf8JsonWriter writer, ModelPreset preset, CatalogSnapshot snapshot)
    {
        var entry = snapshot.Presets.FirstOrDefault(p => p.Preset.Key == preset.Key);
        writer.WriteStartObject();
        PresetDefinitions.WriteFields(writer, preset);
        writer.WriteString("origin", preset.Origin == PresetOrigin.Config ? "config" : "api");
        if (entry?.Base is { } model)
        {
            writer.WriteString("resolvedModel", model.Name);
        }
        else
        {
            writer.WriteNull("resolvedModel");
        }

        if (entry?.Problem is { } problem)
        {
            writer.WriteString("problem", problem);
        }
        else
        {
            writer.WriteNull("problem");
        }

        writer.WriteEndObject();
    }
}
