using System.Buffers;
using System.IO.Pipelines;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.OpenAi;

/// <summary>
/// Reads a backend's NDJSON answer and writes the converted server-sent events as each read arrives: the
/// frames of every complete line are flushed at once, nothing waits for the end of the generation. A backend
/// failing mid-stream, or ending before its final line, ends the stream with an error frame.
/// </summary>
internal static class SseRelay
{
    /// <summary>Relays and converts the whole answer; true when it ended with its final line.</summary>
    public static async Task<bool> RelayAsync(HttpContext context, Backend backend, HttpResponseMessage upstream, ISseConverter converter, ShutdownDrain? drain)
    {
        var aborted = context.RequestAborted;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var output = response.BodyWriter;
        await response.StartAsync(aborted);

        var input = PipeReader.Create(await upstream.Content.ReadAsStreamAsync(aborted), new StreamPipeReaderOptions(bufferSize: 16 * 1024));
        using var deadline = new RelayDeadline(aborted, drain, backend.IdleTimeout);
        var failed = false;
        try
        {
            while (!converter.Done)
            {
                ReadResult result;
                try
                {
                    deadline.Touch();
                    result = await input.ReadAsync(deadline.Token);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !aborted.IsCancellationRequested)
                {
                    converter.Fail(UpstreamFailure.MidStream(backend, UpstreamFailure.Describe(e)), output);
                    failed = true;
                    break;
                }
                catch (OperationCanceledException) when (deadline.Cause(backend) is { } cause)
                {
                    converter.Fail(cause, output);
                    failed = true;
                    break;
                }

                var buffer = result.Buffer;
                while (buffer.PositionOf((byte)'\n') is { } end)
                {
                    ConvertLine(converter, buffer.Slice(0, end), output);
                    buffer = buffer.Slice(buffer.GetPosition(1, end));
                }

                if (result.IsCompleted)
                {
                    ConvertLine(converter, buffer, output);
                    if (!converter.Done)
                    {
                        converter.Fail($"{backend.Describe()} ended the stream before its final line", output);
                        failed = true;
                    }

                    break;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                await output.FlushAsync(aborted);
            }

            await output.FlushAsync(aborted);
            return !failed;
        }
        finally
        {
            await input.CompleteAsync();
        }
    }

    private static void ConvertLine(ISseConverter converter, ReadOnlySequence<byte> line, IBufferWriter<byte> output)
    {
        if (line.IsEmpty || converter.Done)
        {
            return;
        }

        if (line.IsSingleSegment)
        {
            converter.Convert(line.FirstSpan, output);
            return;
        }

        // A line split across buffer segments: join it (rare; lines are small).
        var length = (int)line.Length;
        var joined = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            line.CopyTo(joined);
            converter.Convert(joined.AsSpan(0, length), output);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(joined);
        }
    }
}
