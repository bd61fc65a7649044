using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;

namespace Corral.Pipeline;

/// <summary>
/// The walk of an inference request, after its surface parsed it and Access let it in: the catalog finds the
/// model (one outside the key's allow-list is not found, in the same words), the key's rates are counted, the
/// fleet admits it to a backend and fails over (<see cref="FleetDispatcher"/>), the relay streams the
/// answer through the surface's converter, and what was learnt stays in the <see cref="RequestRecord"/> for the
/// usage record. Errors come back as values for the surface to write.
/// </summary>
internal sealed class InferencePipeline(ModelCatalog catalog, FleetDispatcher fleet, Relay relay, Hosting.CorralSettings settings)
{
    /// <summary>
    /// Serves <paramref name="request"/>, writing what it learns into <paramref name="record"/> (the request's feature,
    /// handed down rather than looked up again at every stage); returns the error to answer when no backend's answer
    /// was relayed.
    /// </summary>
    public async Task<ProxyError?> RunAsync(HttpContext context, RequestRecord? record, InferenceRequest request)
    {
        if (record is not null)
        {
            record.Model = request.Model;
        }

        CatalogMatch match;
        try
        {
            match = await catalog.MatchAsync(request.Model, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return ProxyError.ClientLeft;
        }

        if (record is not null)
        {
            record.Model = match.Asked;
            record.ResolvedModel = match.Model?.Name;
        }

        var caller = record?.Caller ?? context.Features.Get<Caller>();
        // A preset is allowed by its own name, whatever the key may do with its base.
        var allowedName = match.Preset?.Name ?? match.Model?.Name;
        if (caller is not null && allowedName is not null && !caller.Models.Allows(allowedName))
        {
            // The key learns nothing about a model it may not use: the answer is the unknown model's, word for word.
            if (record is not null)
            {
                record.Error = $"not allowed: '{allowedName}' is outside the allow-list of key '{caller.KeyName}'";
            }

            return request.NotFound();
        }

        if (match.Model is not { } model)
        {
            return match.Preset is { } orphan
                ? ProxyError.NotFound($"model '{match.Asked}' is a preset of '{orphan.Model}', which no backend lists")
                : Unlisted(match.Asked, caller) ?? request.NotFound();
        }

        if (match.Preset is { } preset)
        {
            request.UsePreset(preset, model);
        }

        if (caller?.State is { } state && await state.TryStartAsync() is { } refused)
        {
            return ProxyError.RateLimited(
                $"rate limit exceeded: {refused.Limit} of this key is {refused.Value}; try again in {ProxyError.RetryAfterSeconds(refused.RetryAfter)} s",
                refused.Type,
                refused.RetryAfter);
        }

        var sent = await fleet.SendAsync(context, record, model, request);
        if (sent.Dispatch is not { } dispatch)
        {
            return sent.Error;
        }

        using (dispatch)
        {
            var outcome = await relay.RelayAsync(context, record, dispatch.Backend, dispatch.Response, request.ConverterFor(dispatch.Backend, dispatch.Response));
            if (outcome == RelayOutcome.Completed)
            {
                dispatch.Complete();
            }
        }

        return null;
    }

    /// <summary>
    /// A model no backend lists, while some backend could not be listed at all: not Ollama's "not found", which
    /// sends a newcomer to pull a model that may be there, but 503 naming those backends and what the doctor found.
    /// A name the key may not use stays not found, as every model outside its allow-list does.
    /// </summary>
    private ProxyError? Unlisted(string asked, Caller? caller)
    {
        if (catalog.Current is not { } snapshot || (caller is not null && !caller.Models.Allows(asked)))
        {
            return null;
        }

        var unlisted = snapshot.Listings.Where(l => !l.Ok).ToArray();
        if (unlisted.Length == 0)
        {
            return null;
        }

        var why = unlisted.Select(l => l.Backend.Health.Diagnosis is { } diagnosis
            ? $"backend {l.Backend.Name} could not be {(diagnosis.Check is "url" or "dns" or "tcp" ? "reached" : "listed")}: {diagnosis}"
            : $"backend {l.Backend.Name} could not be listed: {l.Error}");
        return ProxyError.Unavailable($"model '{asked}' is not known: {string.Join("; ", why)}", settings.HealthInterval);
    }
}
