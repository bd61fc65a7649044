using System.Threading.Channels;
using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Native;

/// <summary>
/// pull, create, push, copy and delete (admin only). They go to the backend named by <c>?backend=NAME</c> or
/// <c>X-Corral-Backend</c>; without one, pull and create go to every enabled backend, copy and delete to every
/// backend that holds the model, push to one that holds it. Several backends answer as one: a single merged
/// progress stream, or one reply that names every backend that failed. The catalog is refreshed before the
/// final answer, so a model just pulled can be used by the very next request.
/// </summary>
internal sealed class ModelManagementEndpoints(BackendFleet fleet, ModelCatalog catalog, BackendClient client, CorralSettings settings)
{
    public async Task PullAsync(HttpContext context)
    {
        using var body = await NativeBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        if (await TargetsForNewModelAsync(context, model) is { } targets)
        {
            await RunAsync(context, body, "pull", "/api/pull", targets, b => [(field, StripPrefix(b, model))], mutates: true);
        }
    }

    public async Task CreateAsync(HttpContext context)
    {
        using var body = await NativeBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        var from = body.Get("from");
        if (await TargetsForNewModelAsync(context, model) is { } targets)
        {
            await RunAsync(context, body, "create", "/api/create", targets, b => from is null
                ? [(field, StripPrefix(b, model))]
                : [(field, StripPrefix(b, model)), ("from", StripPrefix(b, from))], mutates: true);
        }
    }

    public async Task PushAsync(HttpContext context)
    {
        using var body = await NativeBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        var holders = await TargetsForExistingModelAsync(context, model, $"model \"{model}\" not found");
        if (holders is not null)
        {
            // One copy is enough: push from the first backend that holds the model.
            var (backend, upstreamName) = holders[0];
            await RunAsync(context, body, "push", "/api/push", [backend], _ => [(field, upstreamName)], mutates: false);
        }
    }

    public async Task CopyAsync(HttpContext context)
    {
        using var body = await NativeBody.ReadAsync(context, settings);
        if (body is null)
        {
            return;
        }

        var source = body.Get("source");
        var destination = body.Get("destination");
        if (string.IsNullOrEmpty(source) || string.IsNullOrEmpty(destination))
        {
            await OllamaError.WriteAsync(context, StatusCodes.Status400BadRequest, "source and destination are required");
            return;
        }

        var holders = await TargetsForExistingModelAsync(context, source, $"model \"{source}\" not found");
        if (holders is null)
        {
            return;
        }

        var names = holders.ToDictionary(h => h.Backend, h => h.UpstreamName);
        await RunBufferedAsync(context, "copy", HttpMethod.Post, "/api/copy", holders.Select(h => h.Backend).ToArray(),
            b => body.ToContent([("source", names[b]), ("destination", StripPrefix(b, destination))]), mutates: true);
    }

    public async Task DeleteAsync(HttpContext context)
    {
        using var body = await NativeBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        var holders = await TargetsForExistingModelAsync(context, model, $"model '{model}' not found");
        if (holders is null)
        {
            return;
        }

        var names = holders.ToDictionary(h => h.Backend, h => h.UpstreamName);
        await RunBufferedAsync(context, "delete", HttpMethod.Delete, "/api/delete", holders.Select(h => h.Backend).ToArray(),
            b => body.ToContent([(field, names[b])]), mutates: true);
    }

    /// <summary>The backend named by <c>?backend=</c> or <c>X-Corral-Backend</c>, if any; writes 400 for an unknown name.</summary>
    public async Task<(bool Named, Backend? Backend)> ExplicitTargetAsync(HttpContext context)
    {
        var name = context.Request.Query["backend"].ToString();
        if (name.Length == 0)
        {
            name = context.Request.Headers["X-Corral-Backend"].ToString();
        }

        if (name.Length == 0)
        {
            return (false, null);
        }

        if (fleet.Find(name) is { } backend)
        {
            return (true, backend);
        }

        await OllamaError.WriteAsync(context, StatusCodes.Status400BadRequest,
            $"unknown backend '{name}' (backends: {string.Join(", ", fleet.All.Select(b => b.Name))})");
        return (true, null);
    }

    private static async Task<string?> RequiredModelAsync(HttpContext context, JsonRequestBody body)
    {
        var field = !body.Has("model") && body.Has("name") ? "name" : "model";
        if (string.IsNullOrEmpty(body.Get(field)))
        {
            await OllamaError.WriteAsync(context, StatusCodes.Status400BadRequest, "model is required");
            return null;
        }

        return field;
    }

    /// <summary>Where a new model goes: the named backend, else every enabled backend whose prefix and allow-list admit it.</summary>
    private async Task<Backend[]?> TargetsForNewModelAsync(HttpContext context, string model)
    {
        var (named, backend) = await ExplicitTargetAsync(context);
        if (named)
        {
            return backend is null ? null : [backend];
        }

        var (prefix, bare) = catalog.SplitPrefix(model);
        var targets = fleet.Enabled
            .Where(b => prefix is null || string.Equals(b.Options.Prefix, prefix, StringComparison.OrdinalIgnoreCase))
            .Where(b => b.Admits(bare))
            .ToArray();
        if (targets.Length == 0)
        {
            await OllamaError.WriteAsync(context, StatusCodes.Status400BadRequest,
                $"no enabled backend admits model '{model}' (check the backends' prefixes and \"models\" allow-lists, or name one with ?backend=NAME)");
            return null;
        }

        return targets;
    }

    /// <summary>Every backend that holds the model (or the named one), with that backend's own name for it.</summary>
    private async Task<(Backend Backend, string UpstreamName)[]?> TargetsForExistingModelAsync(HttpContext context, string model, string notFound)
    {
        var (named, backend) = await ExplicitTargetAsync(context);
        var snapshot = await catalog.GetAsync(context.RequestAborted);
        var entry = catalog.Resolve(snapshot, model);
        if (named)
        {
            if (backend is null)
            {
                return null;
            }

            var location = entry?.Locations.FirstOrDefault(l => l.Backend == backend);
            return [(backend, location?.UpstreamName ?? StripPrefix(backend, model))];
        }

        if (entry is null)
        {
            await OllamaError.WriteAsync(context, StatusCodes.Status404NotFound, notFound);
            return null;
        }

        return entry.Locations.Select(l => (l.Backend, l.UpstreamName)).ToArray();
    }

    private static string StripPrefix(Backend backend, string name) =>
        backend.Options.Prefix is { } prefix ? ModelName.WithoutPrefix(name, prefix) ?? name : name;

    /// <summary>Runs a progress operation (pull, create, push) streamed or not, as the client asked.</summary>
    private Task RunAsync(HttpContext context, JsonRequestBody body, string operation, string path, Backend[] targets, Func<Backend, IReadOnlyList<(string, string)>> rewrites, bool mutates) =>
        body.Stream ?? true
            ? RunStreamingAsync(context, operation, path, targets, b => body.ToContent(rewrites(b)), mutates)
            : RunBufferedAsync(context, operation, HttpMethod.Post, path, targets, b => body.ToContent(rewrites(b)), mutates);

    /// <summary>Sends to every target, waits for all, and answers once: as the backend did, or naming each failure.</summary>
    private async Task RunBufferedAsync(HttpContext context, string operation, HttpMethod method, string path, Backend[] targets, Func<Backend, HttpContent> contentFor, bool mutates)
    {
        var caller = context.Features.Get<Caller>();
        var replies = await Task.WhenAll(targets.Select(b => BufferedReply.SendAsync(client, b, method, path, contentFor(b), caller, context.RequestAborted)));
        if (mutates && replies.Any(r => r.IsSuccess))
        {
            await catalog.RefreshAsync().WaitAsync(context.RequestAborted);
        }

        if (replies.Length == 1 || replies.All(r => r.IsSuccess))
        {
            await replies[0].WriteAsync(context);
            return;
        }

        var failed = replies.Where(r => !r.IsSuccess).ToArray();
        var succeeded = replies.Where(r => r.IsSuccess).Select(r => $"'{r.Backend.Name}'").ToArray();
        var message = $"{operation} failed on {failed.Length} of {replies.Length} backends: "
            + string.Join("; ", failed.Select(r => $"backend '{r.Backend.Name}': {r.ErrorMessage}"))
            + (succeeded.Length > 0 ? $" (succeeded on {string.Join(", ", succeeded)})" : string.Empty);
        var status = failed[0].TransportError is not null ? StatusCodes.Status502BadGateway : failed[0].Status;
        await OllamaError.WriteAsync(context, status, message);
    }

    /// <summary>
    /// Streams the progress of every target as one NDJSON stream. Headers are sent once every backend has
    /// answered or failed; if all failed before streaming, the answer is a plain error with their status.
    /// </summary>
    private async Task RunStreamingAsync(HttpContext context, string operation, string path, Backend[] targets, Func<Backend, HttpContent> contentFor, bool mutates)
    {
        var aborted = context.RequestAborted;
        var caller = context.Features.Get<Caller>();
        var merger = new ProgressMerger(targets.Select(t => t.Name).ToArray());
        var channel = Channel.CreateUnbounded<(int Source, byte[]? Line, string? Error)>();
        var started = targets.Select(_ => new TaskCompletionSource<BufferedReply?>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var readers = targets.Select((backend, i) => ReadTargetAsync(backend, i)).ToArray();
        _ = Task.WhenAll(readers).ContinueWith(_ => channel.Writer.TryComplete(), TaskScheduler.Default);

        var early = await Task.WhenAll(started.Select(s => s.Task));
        if (early.All(r => r is not null))
        {
            // Nobody streams: answer like the buffered path does.
            if (early.Length == 1)
            {
                await early[0]!.WriteAsync(context);
                return;
            }

            for (var i = 0; i < early.Length; i++)
            {
                merger.Fail(i, early[i]!.ErrorMessage);
            }

            var first = early[0]!;
            await OllamaError.WriteAsync(context, first.TransportError is not null ? StatusCodes.Status502BadGateway : first.Status, merger.Summary(operation));
            return;
        }

        for (var i = 0; i < early.Length; i++)
        {
            if (early[i] is { } failure)
            {
                merger.Fail(i, failure.ErrorMessage);
            }
        }

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/x-ndjson";
        if (targets.Length == 1)
        {
            response.Headers["X-Corral-Backend"] = targets[0].Name;
        }

        await response.StartAsync(aborted);
        await foreach (var (source, line, error) in channel.Reader.ReadAllAsync(aborted))
        {
            if (error is not null)
            {
                merger.Fail(source, error);
            }
            else if (merger.Accept(source, line) is { } output)
            {
                await WriteLineAsync(response, output, aborted);
            }
        }

        if (mutates && merger.Succeeded)
        {
            await catalog.RefreshAsync().WaitAsync(aborted);
        }

        if (merger.Final(operation) is { } final)
        {
            await WriteLineAsync(response, final, aborted);
        }

        async Task ReadTargetAsync(Backend backend, int index)
        {
            using var lease = backend.Acquire();
            try
            {
                using var request = client.CreateRequest(backend, HttpMethod.Post, path, caller);
                request.Content = contentFor(backend);
                using var upstream = await client.SendAsync(request, aborted);
                if (!upstream.IsSuccessStatusCode)
                {
                    var bytes = await upstream.Content.ReadAsByteArrayAsync(aborted);
                    started[index].TrySetResult(new BufferedReply(backend, (int)upstream.StatusCode, bytes, upstream.Content.Headers.ContentType?.ToString(), null));
                    return;
                }

                started[index].TrySetResult(null);
                await using var stream = await upstream.Content.ReadAsStreamAsync(aborted);
                await foreach (var line in NdjsonLines.ReadAsync(stream, aborted))
                {
                    await channel.Writer.WriteAsync((index, line, null), aborted);
                }
            }
            catch (Exception e) when (!aborted.IsCancellationRequested)
            {
                var message = UpstreamFailure.Unreachable(backend, e);
                if (!started[index].TrySetResult(new BufferedReply(backend, StatusCodes.Status502BadGateway, [], null, message)))
                {
                    await channel.Writer.WriteAsync((index, null, $"failed mid-stream: {UpstreamFailure.Describe(e)}"), CancellationToken.None);
                }
            }
            catch (OperationCanceledException)
            {
                started[index].TrySetCanceled(aborted);
            }
        }
    }

    private static async Task WriteLineAsync(HttpResponse response, byte[] line, CancellationToken cancellationToken)
    {
        var output = new byte[line.Length + 1];
        line.CopyTo(output, 0);
        output[^1] = (byte)'\n';
        await response.BodyWriter.WriteAsync(output, cancellationToken);
    }
}
