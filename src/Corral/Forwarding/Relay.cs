using System.Buffers;
using System.IO.Pipelines;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Pipeline;

namespace Corral.Forwarding;

/// <summary>
/// The one relay loop: reads a backend's answer as it arrives and hands each chunk to an
/// <see cref="IRelayConverter"/>, flushing whatever it wrote at once, so NDJSON lines and SSE frames reach the
/// client while the model is still generating. Each read is bounded by the backend's idle timeout and the
/// shutdown drain; a backend that breaks off, goes silent or ends early has its answer ended by the converter
/// (an error line or frame), or the connection cut when that cannot be said. The client leaving cancels the
/// backend request (disposing the answer closes its connection, which stops generation), and so does a client
/// that takes no byte of its answer for <c>--client-stall-timeout</c>: it loses the answer, and the backend's slot
/// is free for others.
/// </summary>
internal sealed partial class Relay(ShutdownDrain drain, CorralSettings settings, TimeProvider time, ILogger<Relay> logger)
{
    private const int BufferSize = 16 * 1024;

    /// <summary>
    /// Relays <paramref name="upstream"/> from <paramref name="backend"/> to the client through <paramref name="converter"/>,
    /// counting what it sends, the tokens and the first byte in <paramref name="record"/>.
    /// </summary>
    public async Task<RelayOutcome> RelayAsync(HttpContext context, RequestRecord? record, Backend backend, HttpResponseMessage upstream, IRelayConverter converter)
    {
        var aborted = context.RequestAborted;
        var response = context.Response;
        converter.Begin(context, upstream);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return RelayOutcome.Completed;
        }

        var output = new RelayOutput(response.BodyWriter, record is { KeepsBodies: true } ? record : null);
        RelayOutcome outcome;
        try
        {
            await using var body = await upstream.Content.ReadAsStreamAsync(aborted);
            if (converter.Streams)
            {
                StreamHeaders.Apply(response);
                await response.StartAsync(aborted);
            }

            outcome = await PumpAsync(body, backend, converter, output, context, record, aborted);
        }
        catch (Exception e) when ((aborted.IsCancellationRequested && e is OperationCanceledException or IOException) || e is ClientStalledException)
        {
            outcome = RelayOutcome.ClientLeft;
        }

        if (record is not null)
        {
            record.BytesOut += output.Written;
            record.PromptTokens = converter.PromptTokens;
            record.CompletionTokens = converter.CompletionTokens;
            record.Error ??= converter.Error;
            record.Cancelled |= outcome == RelayOutcome.ClientLeft;
        }

        return outcome;
    }

    /// <summary>
    /// Reads <paramref name="upstream"/> to its end through <paramref name="converter"/> with no client to write to
    /// (the converter takes the lines itself: a fan-out). The failure, if any, is the converter's to report.
    /// </summary>
    public async Task<RelayOutcome> DrainAsync(Backend backend, HttpResponseMessage upstream, IRelayConverter converter, CancellationToken aborted)
    {
        try
        {
            await using var body = await upstream.Content.ReadAsStreamAsync(aborted);
            return await PumpAsync(body, backend, converter, new RelayOutput(null, keeper: null), context: null, record: null, aborted);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return RelayOutcome.ClientLeft;
        }
    }

    private async Task<RelayOutcome> PumpAsync(
        Stream body, Backend backend, IRelayConverter converter, RelayOutput output, HttpContext? context, RequestRecord? record, CancellationToken aborted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        using var deadline = new RelayDeadline(drain, backend.IdleTimeout, time, aborted);
        try
        {
            while (!converter.Finished)
            {
                int read;
                // Until the answer starts, time spent reading the backend is the backend's, not Corral's overhead.
                var waitStarted = record is not null && !context!.Response.HasStarted ? time.GetTimestamp() : 0;
                try
                {
                    deadline.Touch();
                    read = await body.ReadAsync(buffer, deadline.Token);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !aborted.IsCancellationRequested)
                {
                    return await FailAsync(context, record, backend, converter, output, UpstreamFailure.MidStream(backend, UpstreamFailure.Describe(e)));
                }
                catch (OperationCanceledException) when (deadline.Cause(backend) is { } cause)
                {
                    return await FailAsync(context, record, backend, converter, output, cause);
                }
                finally
                {
                    if (waitStarted != 0)
                    {
                        record!.BackendWait += time.GetElapsedTime(waitStarted);
                    }
                }

                if (read == 0)
                {
                    break;
                }

                converter.Convert(buffer.AsSpan(0, read), output);
                if ((await SendAsync(context, output, record, aborted)).IsCanceled)
                {
                    throw new OperationCanceledException(aborted);
                }
            }

            var whole = await converter.CompleteAsync(context, output);
            if ((await SendAsync(context, output, record, aborted)).IsCanceled)
            {
                throw new OperationCanceledException(aborted);
            }

            if (record is { FirstByteSent: null } && context!.Response.HasStarted)
            {
                // A converter that answers whole (a translation) wrote its answer just now.
                record.FirstByteSent = time.GetTimestamp();
            }

            if (!whole && converter.Error is { } error)
            {
                LogBrokenStream(logger, backend.Name, error);
            }

            return whole ? RelayOutcome.Completed : RelayOutcome.Failed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // What a converter wrote goes out now (the first of it is the answer's first byte); nothing when it wrote nothing.
    // Not async: the writer's flush is returned, not awaited, so no state machine of its own runs per chunk. Only a
    // flush the client holds up (its buffers are full) is watched for a stall.
    private ValueTask<FlushResult> SendAsync(HttpContext? context, RelayOutput output, RequestRecord? record, CancellationToken aborted)
    {
        if (context is null || output.Pending == 0)
        {
            return default;
        }

        if (record is not null && record.FirstByteSent is null)
        {
            record.FirstByteSent = time.GetTimestamp();
        }

        output.Flushed();
        var flush = context.Response.BodyWriter.FlushAsync(aborted);
        return flush.IsCompleted ? flush : WaitForClientAsync(flush, context, record);
    }

    private async ValueTask<FlushResult> WaitForClientAsync(ValueTask<FlushResult> flush, HttpContext context, RequestRecord? record)
    {
        var pending = flush.AsTask();
        try
        {
            return await pending.WaitAsync(settings.ClientStallTimeout, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            var message = $"the client took no byte of its answer for {Durations.Seconds(settings.ClientStallTimeout)} s (--client-stall-timeout): the answer and its backend request were cancelled";
            LogClientStalled(logger, message);
            if (record is not null)
            {
                record.Error ??= message;
            }

            // Closing the connection ends the write that waits; the relay then ends and the backend request with it.
            context.Abort();
            _ = pending.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new ClientStalledException();
        }
    }

    private async Task<RelayOutcome> FailAsync(HttpContext? context, RequestRecord? record, Backend backend, IRelayConverter converter, RelayOutput output, string message)
    {
        LogBrokenStream(logger, backend.Name, message);
        if (record is not null)
        {
            record.Error ??= message;
        }

        if (context is null)
        {
            converter.Fail(message, output);
            return RelayOutcome.Failed;
        }

        if (!context.Response.HasStarted)
        {
            // Nothing reached the client yet (every chunk written is flushed at once): a whole error answer can still be given.
            await ErrorWriter.WriteAsync(context, ProxyError.BadGateway(message));
            return RelayOutcome.Failed;
        }

        if (converter.Fail(message, output))
        {
            output.Flushed();
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
        else
        {
            // A fixed-length answer cannot be completed: cut the connection so the client sees it was truncated.
            context.Abort();
        }

        return RelayOutcome.Failed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answer from backend {Backend} ended early: {Message}")]
    private static partial void LogBrokenStream(ILogger logger, string backend, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A client stopped reading: {Message}")]
    private static partial void LogClientStalled(ILogger logger, string message);

    /// <summary>The client took nothing for the stall timeout: the relay ends as if it had left.</summary>
    private sealed class ClientStalledException : OperationCanceledException;
}
