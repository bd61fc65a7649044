using System.Text.Json;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Forwarding;

/// <summary>Reads small JSON answers (tags, ps, version) from backends, each bounded by the listing timeout.</summary>
internal sealed class ListingClient(BackendClient client, CorralSettings settings)
{
    /// <summary>GETs <paramref name="path"/> from the backend; never throws for backend failures.</summary>
    public async Task<ListingResult> GetAsync(Backend backend, string path, CancellationToken cancellationToken)
    {
        var reply = await client.ExchangeAsync(backend, HttpMethod.Get, path, content: null, caller: null, cancellationToken, settings.ListingTimeout, "the listing timeout");
        if (reply.Failure is { } failure)
        {
            return ListingResult.Failed(failure.Cause, failure.IsRefused);
        }

        if (!reply.IsSuccess)
        {
            return ListingResult.Failed($"answered {reply.Status} to GET {path}: {OllamaError.MessageOf(reply.Body)}");
        }

        try
        {
            return ListingResult.Succeeded(JsonDocument.Parse(reply.Body));
        }
        catch (JsonException)
        {
            return ListingResult.Failed($"answered GET {path} with something that is not JSON (is this an Ollama server?)");
        }
    }
}

/// <summary>The outcome of one listing call: a parsed document, or an error text (and whether the connection was refused).</summary>
internal readonly record struct ListingResult(JsonDocument? Document, string? Error, bool Refused = false)
{
    public static ListingResult Succeeded(JsonDocument document) => new(document, null);

    public static ListingResult Failed(string error, bool refused = false) => new(null, error, refused);
}
