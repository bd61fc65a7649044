using System.Buffers;
using System.Threading.Channels;
using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Native;

/// <summary>
/// pull, create, push, copy and delete (admin only). They go to the backend named by <c>?backend=NAME</c> or
/// <c>X-Corral-Backend</c>; without one, pull and create go to every enabled backend, copy and delete to every
/// backend that holds the model, push to one that holds it. Several backends answer as one: a single merged
/// progress stream (each backend's stream read by the one <see cref="Relay"/>), or one reply that names every
/// backend that failed. The catalog is refreshed before the final answer, so a model just pulled can be used by
/// the very next request. Never retried: these change the backends.
/// </summary>
internal sealed class ModelManagementEndpoints(BackendFleet fleet, ModelCatalog catalog, BackendClient client, Forwarder forwarder, Relay relay, CorralSettings settings)
{
    public async Task PullAsync(HttpContext context)
    {
        using var body = await SurfaceBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        Record(context, model);
        if (await TargetsForNewModelAsync(context, model) is { } targets)
        {
            await RunAsync(context, body, "pull", "/api/pull", targets, b => [(field, StripPrefix(b, model))], mutates: true);
        }
    }

    public async Task CreateAsync(HttpContext context)
    {
        using var body = await SurfaceBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        Record(context, model);
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
        using var body = await SurfaceBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        Record(context, model);
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
        using var body = await SurfaceBody.ReadAsync(context, settings);
        if (body is null)
        {
            return;
        }

        var source = body.Get("source");
        var destination = body.Get("destination");
        Record(context, source);
        if (string.IsNullOrEmpty(source) || string.IsNullOrEmpty(destination))
        {
            await ErrorWriter.WriteAsync(context, ProxyError.BadRequest("source and destination are required"));
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
        using var body = await SurfaceBody.ReadAsync(context, settings);
        if (body is null || await RequiredModelAsync(context, body) is not { } field)
        {
            return;
        }

        var model = body.Get(field)!;
        Record(context, model);
        var holders = await TargetsForExistingModelAsync(context, model, $"model '{model}' not found");
        if (holders is null)
        {
            return;
        }

        var names = holders.ToDictionary(h => h.Backend, h => h.UpstreamName);
        await RunBufferedAsync(context, "delete", HttpMethod.Delete, "/api/delete", holders.Select(h => h.Backend).ToArray(),
            b => body.ToContent([(field, names[b])]), mutates: true);
    }

    /// <summary>The backend named by <c>?backend=</c> or <c>X-Corral-Backend</c>, if any; answers 400 for an unknown name.</summary>
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

        await ErrorWriter.WriteAsync(context, ProxyError.BadRequest($"unknown backend '{name}' (backends: {string.Join(", ", fleet.All.Select(b => b.Name))})"));
        return (true, null);
    }

    private static void Record(HttpContext context, string? model)
    {
        if (context.Features.Get<RequestRecord>() is { } record)
        {
            record.Model = model;
        }
    }

    private static async Task<string?> RequiredModelAsync(HttpContext context, JsonRequestBody body)
    {
        var field = !body.Has("model") && body.Has("name") ? "name" : "model";
        if (string.IsNullOrEmpty(body.Get(field)))
        {
            await ErrorWriter.WriteAsync(context, ProxyError.BadRequest("model is required"));
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
            await ErrorWriter.WriteAsync(context, ProxyError.BadRequest(
                $"no enabled backend admits model '{model}' (check the backends' prefixes and \"models\" allow-lists, or name one with ?backend=NAME)"));
            return null;
        }

        return targets;
    }

    /// <summary>Every backend that holds the model (or the named one), with that backend's own name for it.</summary>
    private async Task<(Backend Backend, string UpstreamName)[]?> TargetsForExistingModelAsync(HttpContext context, string model, string notFound)
    {
        var (named, backend) = await ExplicitTargetAsync(context);
        var entry = await catalog.FindAsync(model, context.RequestAborted);
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
            await ErrorWriter.WriteAsync(context, ProxyError.NotFound(notFound));
            return null;
        }

        if (context.Features.Get<RequestRecord>() is { } record)
        {
            record.ResolvedModel = entry.Name;
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
        var replies = await Task.WhenAll(targets.Select(b => client.ExchangeAsync(b, method, path, contentFor(b), caller, context.RequestAborted)));
        if (mutates && replies.Any(r => r.IsSuccess))
        {
            await catalog.RefreshAsync().WaitAsync(context.RequestAborted);
        }

        Backends(context, targets);
        if (replies.Length == 1 || replies.All(r => r.IsSuccess))
        {
            await WriteReplyAsync(context, replies[0]);
            return;
        }

        var failed = replies.Where(r => !r.IsSuccess).ToArray();
        var succeeded = replies.Where(r => r.IsSuccess).Select(r => $"'{r.Backend.Name}'").ToArray();
        var message = $"{operation} failed on {failed.Length} of {replies.Length} backends: "
            + string.Join("; ", failed.Select(r => $"backend '{r.Backend.Name}': {r.ErrorMessage}"))
            + (succeeded.Length > 0 ? $" (succeeded on {string.Join(", ", succeeded)})" : string.Empty);
        await ErrorWriter.WriteAsync(context, ProxyError.Upstream(failed[0].ClientStatus, message));
    }

    /// <summary>
    /// Streams the progress of every target as one NDJSON stream. Headers are sent once every backend has
    /// answered or failed; if all failed before streaming, the answer is a plain error with their status.
    /// </summary>
    private async Task RunStreamingAsync(HttpContext context, string operation, string path, Backend[] targets, Func<Backend, HttpContent> contentFor, bool mutates)
    {
        var aborted = context.RequestAborted;
        var merger = new ProgressMerger(targets.Select(t => t.Name).ToArray());
        var channel = Channel.CreateUnbounded<(int Source, byte[]? Line, string? Error)>();
        var started = targets.Select(_ => new TaskCompletionSource<BufferedReply?>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var readers = targets.Select((backend, i) => ReadTargetAsync(backend, i)).ToArray();
        _ = Task.WhenAll(readers).ContinueWith(_ => channel.Writer.TryComplete(), TaskScheduler.Default);

        Backends(context, targets);
        var early = await Task.WhenAll(started.Select(s => s.Task));
        if (early.All(r => r is not null))
        {
            // Nobody streams: answer like the buffered path does.
            if (early.Length == 1)
            {
                await WriteReplyAsync(context, early[0]!);
                return;
            }

            for (var i = 0; i < early.Length; i++)
            {
                merger.Fail(i, early[i]!.ErrorMessage);
            }

            await ErrorWriter.WriteAsync(context, ProxyError.Upstream(early[0]!.ClientStatus, merger.Summary(operation)));
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
        StreamHeaders.Apply(response);
        await response.StartAsync(aborted);
        await foreach (var (source, line, error) in channel.Reader.ReadAllAsync(aborted))
        {
            if (error is not null)
            {
                merger.Fail(source, error);
            }
            else if (merger.Accept(source, line) is { } output)
            {
                await WriteLineAsync(context, output);
            }
        }

        if (mutates && merger.Succeeded)
        {
            await catalog.RefreshAsync().WaitAsync(aborted);
        }

        if (merger.Final(operation) is { } final)
        {
            await WriteLineAsync(context, final);
        }

        async Task ReadTargetAsync(Backend backend, int index)
        {
            using var lease = backend.Acquire();
            var sent = await forwarder.SendAsync(context, record: null, backend, HttpMethod.Post, path, contentFor(backend), firstByteTimeout: null, recordWait: false);
            if (sent.Response is not { } upstream)
            {
                if (sent.Failure is { } failure)
                {
                    started[index].TrySetResult(new BufferedReply(backend, StatusCodes.Status502BadGateway, [], null, failure));
                }
                else
                {
                    started[index].TrySetCanceled(aborted);
                }

                return;
            }

            using (upstream)
            {
                if (!upstream.IsSuccessStatusCode)
                {
                    var reply = await BackendClient.ReadReplyAsync(backend, upstream, aborted);
                    started[index].TrySetResult(reply);
                    return;
                }

                started[index].TrySetResult(null);
                var lines = new ProgressLines(backend, index, channel.Writer);
                if (await relay.DrainAsync(backend, upstream, lines, aborted) == RelayOutcome.Failed)
                {
                    await channel.Writer.WriteAsync((index, null, lines.Error ?? "failed mid-stream"), CancellationToken.None);
                }
            }
        }
    }

    /// <summary>The backend that answers, when only one does, as every forwarded answer names it.</summary>
    private static void Backends(HttpContext context, Backend[] targets)
    {
        if (targets.Length == 1)
        {
            context.Response.Headers["X-Corral-Backend"] = targets[0].Name;
            if (context.Features.Get<RequestRecord>() is { } record)
            {
                record.Backend = targets[0];
                record.Attempts = 1;
            }
        }
    }

    /// <summary>Writes one backend's whole reply as it came (or 502 when it could not be reached).</summary>
    private static Task WriteReplyAsync(HttpContext context, BufferedReply reply)
    {
        if (reply.Failure is { } failure)
        {
            return ErrorWriter.WriteAsync(context, ProxyError.BadGateway(failure.Unreachable(reply.Backend)));
        }

        if (context.Features.Get<RequestRecord>() is { } record && !reply.IsSuccess)
        {
            record.Error ??= reply.ErrorMessage;
        }

        context.Response.Headers["X-Corral-Backend"] = reply.Backend.Name;
        return JsonAnswer.SendAsync(context, reply.Status, reply.ContentType ?? "application/json; charset=utf-8", reply.Body);
    }

    private static async Task WriteLineAsync(HttpContext context, byte[] line)
    {
        var writer = context.Response.BodyWriter;
        writer.Write(line);
        writer.Write("\n"u8);
        if (context.Features.Get<RequestRecord>() is { } record)
        {
            record.BytesOut += line.Length + 1;
            record.KeepAnswer(line);
        }

        await writer.FlushAsync(context.RequestAborted);
    }

    /// <summary>A backend's progress stream, line by line, into the merger's channel; a failure is kept for the merger's final line.</summary>
    private sealed class ProgressLines(Backend backend, int index, ChannelWriter<(int Source, byte[]? Line, string? Error)> lines) : LineConverter
    {
        private string? _error;

        public override bool Streams => true;

        public override bool Finished => false;

        public override string? Error => _error;

        public override void Begin(HttpContext context, HttpResponseMessage upstream)
        {
        }

        public override void ConvertLine(ReadOnlySpan<byte> line, IBufferWriter<byte> output) => lines.TryWrite((index, line.ToArray(), null));

        public override bool Fail(string message, IBufferWriter<byte> output)
        {
            // The merger names the backend itself.
            var named = backend.Describe() + " ";
            _error = message.StartsWith(named, StringComparison.Ordinal) ? message[named.Length..] : message;
            return false;
        }

        protected override ValueTask<bool> EndAsync(HttpContext? context, IBufferWriter<byte> output) => ValueTask.FromResult(true);
    }
}
