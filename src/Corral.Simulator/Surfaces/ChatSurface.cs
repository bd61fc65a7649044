using System.Text.Json;
using Corral.Simulator.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Surfaces;

/// <summary>
/// A compatible surface's writer in front of the chat generation, as Ollama's middleware wraps gin's writer
/// (AnthropicWriter, ResponsesWriter, TranscriptionWriter): it receives what /api/chat would have written and
/// writes the surface's own answer. The stream faults count chat chunks, as they count NDJSON lines natively.
/// </summary>
internal abstract class ChatSurface
{
    private static readonly TimeSpan s_drainTime = TimeSpan.FromMilliseconds(100);
    private int _chunks;

    /// <summary>Thinking asked of a model that cannot think is dropped rather than refused (Ollama's relax_thinking).</summary>
    public virtual bool RelaxThinking => false;

    /// <summary>
    /// num_predict only cuts an answer that would be longer. Natively the simulator answers with exactly num_predict
    /// tokens so tests can ask for a length; a surface that always sends one (max_tokens) would otherwise only ever
    /// answer at full length.
    /// </summary>
    public virtual bool CapsNumPredict => false;

    /// <summary>An error raised by the chat handler, before any byte, in this surface's envelope.</summary>
    public abstract Task WriteErrorAsync(HttpContext context, int status, string message);

    /// <summary>One streamed chunk; throws <see cref="StreamStoppedException"/> when a fault ends the stream here.</summary>
    public async Task ChunkAsync(SimRequest request, ChatChunk chunk)
    {
        await WriteChunkAsync(request, chunk).ConfigureAwait(false);
        _chunks++;
        if (request.Faults.DieAfterLines is > 0 and var die && _chunks >= die)
        {
            // As NdjsonStream: let the flushed bytes leave before the connection drops (real time on purpose).
            await Task.Delay(s_drainTime, CancellationToken.None).ConfigureAwait(false);
            request.Entry.MarkServerAborted();
            request.Http.Abort();
            throw new StreamStoppedException();
        }

        if (request.Faults.ErrorAfterLines is > 0 and var error && _chunks >= error)
        {
            // Ollama's writers read the {"error":...} line as an empty chat chunk: nothing more is written.
            throw new StreamStoppedException();
        }
    }

    /// <summary>The done chunk of a stream, or the whole answer of a request that does not stream.</summary>
    public abstract Task DoneAsync(SimRequest request, ChatResult result);

    protected abstract Task WriteChunkAsync(SimRequest request, ChatChunk chunk);

    /// <summary>Starts a server-sent event answer the way both SSE surfaces do.</summary>
    protected static void StartEventStream(HttpResponse response)
    {
        if (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers.Connection = "keep-alive";
        }
    }

    /// <summary>Writes and flushes one <c>event: X\ndata: {...}\n\n</c> frame (Ollama's writeSSE).</summary>
    protected static async Task WriteEventAsync(SimRequest request, string name, Action<Utf8JsonWriter> data)
    {
        StartEventStream(request.Http.Response);
        var json = Responses.Serialize(data);
        var frame = new byte[7 + name.Length + 7 + json.Length + 2];
        var at = 0;
        at += System.Text.Encoding.ASCII.GetBytes("event: " + name + "\ndata: ", frame.AsSpan(at));
        json.CopyTo(frame.AsSpan(at));
        at += json.Length;
        frame[at++] = (byte)'\n';
        frame[at] = (byte)'\n';
        var body = request.Http.Response.Body;
        await body.WriteAsync(frame, request.Cancellation).ConfigureAwait(false);
        await body.FlushAsync(request.Cancellation).ConfigureAwait(false);
    }

    /// <summary>A JSON answer written with Go's json.Encoder: a trailing newline, the surface's own content type.</summary>
    protected static Task EncodeAsync(HttpContext context, int status, string contentType, Action<Utf8JsonWriter> write)
    {
        var json = Responses.Serialize(write);
        var body = new byte[json.Length + 1];
        json.CopyTo(body, 0);
        body[^1] = (byte)'\n';
        return Responses.BytesAsync(context, status, contentType, body);
    }
}
