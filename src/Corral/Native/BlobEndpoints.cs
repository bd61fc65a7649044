using System.IO.Pipelines;
using System.Net.Http.Headers;
using Corral.Access;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Pipeline;

namespace Corral.Native;

/// <summary>
/// <c>HEAD|POST /api/blobs/:digest</c> (admin only). The digest is checked first (<see cref="BlobDigest"/>).
/// Uploads stream straight through (a multi-GB file is never held in memory); without <c>?backend=</c> the same
/// bytes are teed to every enabled backend at the pace of the slowest, since <c>create</c> then runs on all of them.
/// Uploads are never retried.
/// </summary>
internal sealed class BlobEndpoints(BackendFleet fleet, BackendClient client, Forwarder forwarder, Relay relay, ModelManagementEndpoints management)
{
    // How far a fast backend may run ahead of a slow one during a tee'd upload.
    private const long TeeWindowBytes = 4 * 1024 * 1024;

    public async Task HeadAsync(HttpContext context)
    {
        if (await TargetsAsync(context) is not { } targets)
        {
            return;
        }

        var path = BlobDigest.UpstreamPath(context, Digest(context));
        if (targets.Length == 1)
        {
            await ForwardAsync(context, targets[0], HttpMethod.Head, path, content: null);
            return;
        }

        var replies = await Task.WhenAll(targets.Select(b => client.ExchangeAsync(b, HttpMethod.Head, path, null, context.Features.Get<Caller>(), context.RequestAborted)));
        // The blob counts as present only if every backend has it: create runs on all of them.
        var missing = replies.FirstOrDefault(r => !r.IsSuccess);
        context.Response.StatusCode = missing?.ClientStatus ?? StatusCodes.Status200OK;
    }

    public async Task PostAsync(HttpContext context)
    {
        if (await TargetsAsync(context) is not { } targets)
        {
            return;
        }

        var path = BlobDigest.UpstreamPath(context, Digest(context));
        var length = context.Request.ContentLength;
        if (targets.Length == 1)
        {
            await ForwardAsync(context, targets[0], HttpMethod.Post, path, StreamingContent(context.Request.Body, length));
            return;
        }

        var pipes = targets.Select(_ => new Pipe(new PipeOptions(pauseWriterThreshold: TeeWindowBytes, resumeWriterThreshold: TeeWindowBytes / 2))).ToArray();
        var caller = context.Features.Get<Caller>();
        var sends = targets.Select((b, i) => SendOneAsync(b, pipes[i])).ToArray();
        var teed = await TeeAsync(context.Request.BodyReader, pipes, context.RequestAborted);
        if (context.Features.Get<RequestRecord>() is { } record)
        {
            record.BytesIn = teed;
        }

        var replies = await Task.WhenAll(sends);
        var failed = replies.Where(r => !r.IsSuccess).ToArray();
        if (failed.Length == 0)
        {
            // 201 if any backend stored something new, 200 if all already had it (Ollama's meaning).
            context.Response.StatusCode = replies.Any(r => r.Status == StatusCodes.Status201Created) ? StatusCodes.Status201Created : StatusCodes.Status200OK;
            return;
        }

        var message = $"blob upload failed on {failed.Length} of {replies.Length} backends: "
            + string.Join("; ", failed.Select(r => $"backend '{r.Backend.Name}': {r.ErrorMessage}"));
        await ErrorWriter.WriteAsync(context, ProxyError.Upstream(failed[0].ClientStatus, message));

        async Task<BufferedReply> SendOneAsync(Backend backend, Pipe pipe)
        {
            try
            {
                return await client.ExchangeAsync(backend, HttpMethod.Post, path, StreamingContent(pipe.Reader.AsStream(), length), caller, context.RequestAborted);
            }
            finally
            {
                // Whatever happened, stop feeding this backend so the others are not held up by it.
                await pipe.Reader.CompleteAsync();
            }
        }
    }

    private static string Digest(HttpContext context) => (string)context.Request.RouteValues["digest"]!;

    /// <summary>One backend: its answer relayed as it comes, or 502 naming it when it cannot be reached.</summary>
    private async Task ForwardAsync(HttpContext context, Backend backend, HttpMethod method, string path, HttpContent? content)
    {
        using var lease = backend.Acquire();
        var record = context.Features.Get<RequestRecord>();
        if (record is not null)
        {
            record.Backend = backend;
            record.Attempts = 1;
        }

        var sent = await forwarder.SendAsync(context, record, backend, method, path, content, firstByteTimeout: null);
        if (sent.Response is not { } response)
        {
            await ErrorWriter.WriteAsync(context, sent.Failure is { } failure ? ProxyError.BadGateway(failure.Unreachable(backend)) : ProxyError.ClientLeft);
            return;
        }

        using (response)
        {
            context.Response.Headers["X-Corral-Backend"] = backend.Name;
            await relay.RelayAsync(context, record, backend, response, new PassThroughConverter());
        }
    }

    private async Task<Backend[]?> TargetsAsync(HttpContext context)
    {
        if (!BlobDigest.IsValid(Digest(context)))
        {
            await ErrorWriter.WriteAsync(context, ProxyError.BadRequest(BlobDigest.Invalid));
            return null;
        }

        var (named, backend) = await management.ExplicitTargetAsync(context);
        if (named)
        {
            return backend is null ? null : [backend];
        }

        var enabled = fleet.Enabled.ToArray();
        if (enabled.Length == 0)
        {
            await ErrorWriter.WriteAsync(context, ProxyError.Unavailable("no backend is enabled", TimeSpan.FromSeconds(5)));
            return null;
        }

        return enabled;
    }

    private static StreamContent StreamingContent(Stream body, long? length)
    {
        var content = new StreamContent(body, 64 * 1024);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (length is not null)
        {
            content.Headers.ContentLength = length;
        }

        return content;
    }

    /// <summary>Copies the client's body into every pipe, waiting for the slowest reader (bounded memory); returns the bytes read.</summary>
    private static async Task<long> TeeAsync(PipeReader source, Pipe[] pipes, CancellationToken cancellationToken)
    {
        var open = pipes.Select(_ => true).ToArray();
        long total = 0;
        try
        {
            while (true)
            {
                var result = await source.ReadAsync(cancellationToken);
                foreach (var segment in result.Buffer)
                {
                    for (var i = 0; i < pipes.Length; i++)
                    {
                        if (open[i])
                        {
                            var flush = await pipes[i].Writer.WriteAsync(segment, cancellationToken);
                            open[i] = !flush.IsCompleted;
                        }
                    }
                }

                total += result.Buffer.Length;
                source.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return total;
                }
            }
        }
        finally
        {
            foreach (var pipe in pipes)
            {
                await pipe.Writer.CompleteAsync();
            }
        }
    }
}
