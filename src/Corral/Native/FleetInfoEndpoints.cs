using System.Text;
using System.Text.Json;
using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Pipeline;

namespace Corral.Native;

/// <summary>The read-only fleet answers Corral composes itself: <c>/</c>, version, tags and ps.</summary>
internal sealed class FleetInfoEndpoints(BackendFleet fleet, ModelCatalog catalog, ListingClient listings)
{
    private const string JsonType = "application/json; charset=utf-8";
    private static readonly byte[] s_running = Encoding.UTF8.GetBytes("Ollama is running");

    /// <summary><c>GET|HEAD /</c>: Ollama's liveness text, answered by Corral itself.</summary>
    public static Task RootAsync(HttpContext context)
    {
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // Ollama answers HEAD / without a length.
            context.Response.ContentType = "text/plain; charset=utf-8";
            return Task.CompletedTask;
        }

        return JsonAnswer.SendAsync(context, StatusCodes.Status200OK, "text/plain; charset=utf-8", s_running);
    }

    /// <summary><c>/api/tags</c>: the merged model list, served from the catalog snapshot.</summary>
    public async Task TagsAsync(HttpContext context)
    {
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        var allowed = context.Features.Get<Caller>()?.Models;
        await JsonAnswer.SendAsync(context, StatusCodes.Status200OK, JsonType, allowed is null or { AllowsAll: true } ? snapshot.TagsJson : snapshot.TagsJsonOf(allowed.Allows));
    }

    /// <summary><c>/api/version</c>: the lowest version among the backends that answer.</summary>
    public async Task VersionAsync(HttpContext context)
    {
        var backends = fleet.Enabled.ToArray();
        var results = await Task.WhenAll(backends.Select(b => listings.GetAsync(b, "/api/version", context.RequestAborted)));
        string? lowest = null;
        var failures = new List<string>();
        for (var i = 0; i < results.Length; i++)
        {
            using var document = results[i].Document;
            if (document is not null
                && document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("version"u8, out var v)
                && v.ValueKind == JsonValueKind.String
                && v.GetString() is { } version)
            {
                if (lowest is null || OllamaVersion.Compare(version, lowest) < 0)
                {
                    lowest = version;
                }
            }
            else
            {
                failures.Add($"{backends[i].Name}: {results[i].Error ?? "no version in the answer"}");
            }
        }

        if (lowest is null)
        {
            await ErrorWriter.WriteAsync(context, ProxyError.BadGateway("no backend answered /api/version: " + string.Join("; ", failures)));
            return;
        }

        await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, JsonType, lowest, static (writer, version) =>
        {
            writer.WriteStartObject();
            writer.WriteString("version", version);
            writer.WriteEndObject();
        });
    }

    /// <summary><c>/api/ps</c>: loaded models of every backend that answers, newest expiry first (those the key may use).</summary>
    public async Task PsAsync(HttpContext context)
    {
        var allowed = context.Features.Get<Caller>()?.Models ?? ModelAllowList.Everything;
        var backends = fleet.Enabled.ToArray();
        var results = await Task.WhenAll(backends.Select(b => listings.GetAsync(b, "/api/ps", context.RequestAborted)));
        var loaded = new Dictionary<string, (JsonElement Entry, Backend Backend, string Expires)>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < results.Length; i++)
            {
                if (results[i].Document is not { } document
                    || document.RootElement.ValueKind != JsonValueKind.Object
                    || !document.RootElement.TryGetProperty("models"u8, out var models)
                    || models.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                var backend = backends[i];
                foreach (var entry in models.EnumerateArray())
                {
                    if (ListingWriter.NameOf(entry) is not { } name || !backend.Admits(name))
                    {
                        continue;
                    }

                    if (!allowed.AllowsAll && !allowed.Allows(backend.Options.Prefix is { } prefix ? prefix + "." + name : name))
                    {
                        continue;
                    }

                    var key = ModelCatalog.KeyFor(backend.Options.Prefix, name);
                    var expires = entry.TryGetProperty("expires_at"u8, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : string.Empty;
                    // The same model loaded on several backends is listed once, with the latest expiry.
                    if (!loaded.TryGetValue(key, out var existing) || CompareTimes(expires, existing.Expires) > 0)
                    {
                        loaded[key] = (entry, backend, expires);
                    }
                }
            }

            await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, JsonType, loaded, static (writer, loaded) =>
            {
                writer.WriteStartObject();
                writer.WriteStartArray("models");
                foreach (var (entry, backend, _) in loaded.Values.OrderByDescending(l => l.Expires, Comparer<string>.Create(CompareTimes)))
                {
                    ListingWriter.WriteModel(writer, entry, backend.Options.Prefix);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            });
        }
        finally
        {
            foreach (var result in results)
            {
                result.Document?.Dispose();
            }
        }
    }

    private static int CompareTimes(string a, string b)
    {
        var hasA = DateTimeOffset.TryParse(a, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var ta);
        var hasB = DateTimeOffset.TryParse(b, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var tb);
        return (hasA, hasB) switch
        {
            (true, true) => ta.CompareTo(tb),
            (true, false) => 1,
            (false, true) => -1,
            _ => string.CompareOrdinal(a, b),
        };
    }
}
