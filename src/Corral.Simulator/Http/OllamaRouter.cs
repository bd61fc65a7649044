using Corral.Simulator.Endpoints;
using Corral.Simulator.Surfaces;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Http;

/// <summary>
/// Ollama's gin router in miniature: the route table, gin's 404/405 pages, the host check and the
/// optional bearer key, the journal, and the hang / first-byte-delay faults in front of every handler.
/// </summary>
internal sealed class OllamaRouter
{
    private const string BlobsPrefix = "/api/blobs/";
    private readonly SimulatedOllama _simulator;
    private readonly Dictionary<string, Dictionary<string, Func<SimRequest, Task>>> _routes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<SimRequest, Task>> _blobRoutes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ControlEndpoints _control;

    public OllamaRouter(SimulatedOllama simulator)
    {
        _simulator = simulator;
        var models = new ModelEndpoints(simulator);
        var inference = new InferenceEndpoints(simulator);
        var embeddings = new EmbeddingEndpoints(simulator);
        var transfers = new TransferEndpoints(simulator);
        var blobs = new BlobEndpoints(simulator);
        var surfaces = new SurfaceEndpoints(inference, simulator.Time);
        _control = new ControlEndpoints(simulator);

        Map("/", ModelEndpoints.RootAsync, HttpMethods.Get, HttpMethods.Head);
        Map("/api/version", models.VersionAsync, HttpMethods.Get, HttpMethods.Head);
        Map("/api/tags", models.TagsAsync, HttpMethods.Get, HttpMethods.Head);
        Map("/api/ps", models.PsAsync, HttpMethods.Get);
        Map("/api/show", models.ShowAsync, HttpMethods.Post);
        Map("/api/copy", models.CopyAsync, HttpMethods.Post);
        Map("/api/delete", models.DeleteAsync, HttpMethods.Delete);
        Map("/api/generate", inference.GenerateAsync, HttpMethods.Post);
        Map("/api/chat", inference.ChatAsync, HttpMethods.Post);
        Map("/v1/messages", surfaces.MessagesAsync, HttpMethods.Post);
        Map("/v1/responses", surfaces.ResponsesAsync, HttpMethods.Post);
        Map("/v1/audio/transcriptions", surfaces.TranscriptionsAsync, HttpMethods.Post);
        Map("/api/embed", embeddings.EmbedAsync, HttpMethods.Post);
        Map("/api/embeddings", embeddings.EmbeddingsAsync, HttpMethods.Post);
        Map("/api/pull", transfers.PullAsync, HttpMethods.Post);
        Map("/api/push", transfers.PushAsync, HttpMethods.Post);
        Map("/api/create", transfers.CreateAsync, HttpMethods.Post);
        _blobRoutes[HttpMethods.Head] = blobs.HeadAsync;
        _blobRoutes[HttpMethods.Post] = blobs.UploadAsync;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.HasValue ? context.Request.Path.Value! : "/";
        if (path.StartsWith("/_sim/", StringComparison.Ordinal))
        {
            await _control.HandleAsync(context).ConfigureAwait(false);
            return;
        }

        var method = context.Request.Method;
        var entry = new JournalEntry(method, path, context.Request.QueryString.Value ?? string.Empty, ReadHeaders(context.Request.Headers));
        var journaled = false;
        _simulator.EnterRequest();
        var stopping = _simulator.Stopping;
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var abortRegistration = context.RequestAborted.Register(() =>
        {
            if (!stopping.IsCancellationRequested)
            {
                entry.MarkClientAborted();
            }
        });
        var request = new SimRequest(context, entry, _simulator.Faults, _simulator.Time.GetTimestamp(), cancellation.Token);
        try
        {
            var (handler, pathKnown) = Resolve(method, path, request);
            var isUpload = handler is not null && path.StartsWith(BlobsPrefix, StringComparison.Ordinal) && HttpMethods.IsPost(method);
            if (!isUpload)
            {
                request.Body = await ReadBodyAsync(context, cancellation.Token).ConfigureAwait(false);
                entry.SetBody(request.Body, Http.RequestBody.PeekModel(request.Body));
                _simulator.Journal.Add(entry);
                journaled = true;
            }

            if (_simulator.Options.LoopbackHostCheck && !await CheckHostAsync(context).ConfigureAwait(false))
            {
                return;
            }

            var key = _simulator.Options.RequiredBearerKey;
            if (!string.IsNullOrEmpty(key) && !string.Equals(context.Request.Headers.Authorization.ToString(), "Bearer " + key, StringComparison.Ordinal))
            {
                await Responses.ErrorAsync(context, StatusCodes.Status401Unauthorized, "unauthorized").ConfigureAwait(false);
                return;
            }

            if (handler is null)
            {
                await (pathKnown
                    ? Responses.TextAsync(context, StatusCodes.Status405MethodNotAllowed, Responses.GinTextContentType, "405 method not allowed")
                    : Responses.TextAsync(context, StatusCodes.Status404NotFound, Responses.GinTextContentType, "404 page not found")).ConfigureAwait(false);
                return;
            }

            if (_simulator.Faults.Hang)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellation.Token).ConfigureAwait(false);
            }

            var delay = _simulator.Faults.FirstByteDelay;
            if (delay > TimeSpan.Zero && path is not ("/" or "/api/version"))
            {
                await Task.Delay(delay, _simulator.Time, cancellation.Token).ConfigureAwait(false);
            }

            await handler(request).ConfigureAwait(false);
        }
        catch (ApiError error) when (!context.Response.HasStarted)
        {
            await (request.ErrorWriter?.Invoke(error.Status, error.Message) ?? Responses.ErrorAsync(context, error.Status, error.Message)).ConfigureAwait(false);
        }
        catch (StreamStoppedException)
        {
        }
        catch (Exception) when (cancellation.IsCancellationRequested)
        {
            // The client went away (nothing left to answer) or the simulator is stopping (drop the connection).
            if (stopping.IsCancellationRequested)
            {
                entry.MarkServerAborted();
                context.Abort();
            }
        }
        finally
        {
            abortRegistration.Dispose();
            if (!journaled)
            {
                _simulator.Journal.Add(entry);
            }

            _simulator.ExitRequest();
            entry.MarkCompleted();
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static Dictionary<string, string> ReadHeaders(IHeaderDictionary headers)
    {
        var copy = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in headers)
        {
            copy[name] = string.Join(", ", values.ToArray());
        }

        return copy;
    }

    private static async Task<bool> CheckHostAsync(HttpContext context)
    {
        if (HostCheck.IsAllowed(context.Request.Host.Value ?? string.Empty))
        {
            if (HttpMethods.IsOptions(context.Request.Method))
            {
                await Responses.EmptyAsync(context, StatusCodes.Status204NoContent).ConfigureAwait(false);
                return false;
            }

            return true;
        }

        await Responses.EmptyAsync(context, StatusCodes.Status403Forbidden).ConfigureAwait(false);
        return false;
    }

    private void Map(string path, Func<SimRequest, Task> handler, params string[] methods)
    {
        var byMethod = new Dictionary<string, Func<SimRequest, Task>>(StringComparer.OrdinalIgnoreCase);
        foreach (var method in methods)
        {
            byMethod[method] = handler;
        }

        _routes[path] = byMethod;
    }

    private (Func<SimRequest, Task>? Handler, bool PathKnown) Resolve(string method, string path, SimRequest request)
    {
        if (path.StartsWith(BlobsPrefix, StringComparison.Ordinal) && path.Length > BlobsPrefix.Length && path.IndexOf('/', BlobsPrefix.Length) < 0)
        {
            request.RouteValue = path[BlobsPrefix.Length..];
            return (_blobRoutes.GetValueOrDefault(method), true);
        }

        return _routes.TryGetValue(path, out var byMethod)
            ? (byMethod.GetValueOrDefault(method), true)
            : (null, false);
    }
}
