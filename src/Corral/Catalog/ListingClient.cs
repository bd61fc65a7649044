using System.Text.Json;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Catalog;

/// <summary>Reads small JSON answers (tags, ps, version) from backends, each bounded by the listing timeout.</summary>
internal sealed class ListingClient(BackendClient client, CorralSettings settings)
{
    /// <summary>GETs <paramref name="path"/> from the backend; never throws for backend failures.</summary>
    public async Task<ListingResult> GetAsync(Backend backend, string path, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.ListingTimeout);
        try
        {
            using var request = client.CreateRequest(backend, HttpMethod.Get, path, caller: null);
            using var response = await client.SendAsync(request, timeout.Token);
            var bytes = await response.Content.ReadAsByteArrayAsync(timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return ListingResult.Failed($"answered {(int)response.StatusCode} to GET {path}: {OllamaError.MessageOf(bytes)}");
            }

            return ListingResult.Succeeded(JsonDocument.Parse(bytes));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ListingResult.Failed($"did not answer GET {path} within {settings.ListingTimeout.TotalSeconds:0.###} s (the listing timeout)");
        }
        catch (JsonException)
        {
            return ListingResult.Failed($"answered GET {path} with something that is not JSON (is this an Ollama server?)");
        }
        catch (HttpRequestException e)
        {
            return ListingResult.Failed(UpstreamFailure.Describe(e));
        }
    }
}

/// <summary>The outcome of one listing call: a parsed document or an error text.</summary>
internal readonly record struct ListingResult(JsonDocument? Document, string? Error)
{
    public static ListingResult Succeeded(JsonDocument document) => new(document, null);

    public static ListingResult Failed(string error) => new(null, error);
}
