using System.Buffers;
using System.Text;
using Corral.Access;
using Corral.Fleet;

namespace Corral.Pipeline;

/// <summary>
/// What one request learns on its way down the pipeline, as a request feature (like YARP's
/// <c>IReverseProxyFeature</c>): each stage writes what it decided or measured, and when the answer is over the
/// record becomes a <see cref="Usage.UsageRecord"/>. Times are <see cref="TimeProvider"/> timestamps. Not
/// thread-safe: one request writes it at a time (a fan-out writes only from the request's own flow).
/// </summary>
internal sealed class RequestRecord(long started, DateTimeOffset startedAt, string route)
{
    /// <summary>How much of a prompt or an answer the request log keeps.</summary>
    public const int MaxKeptBody = 64 * 1024;

    private ArrayBufferWriter<byte>? _answer;

    /// <summary>The timestamp the request reached Corral.</summary>
    public long Started { get; } = started;

    /// <summary>The wall-clock time the request reached Corral.</summary>
    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>The route as mapped, without the <c>/ollama</c> door.</summary>
    public string Route { get; } = route;

    /// <summary>The answer the record belongs to (for the callback that stamps <c>X-Corral-Overhead-Ms</c> on it).</summary>
    public HttpResponse? Response { get; init; }

    /// <summary>The client's address: the socket's peer, or what a trusted proxy said it was (Access).</summary>
    public System.Net.IPAddress? ClientAddress { get; set; }

    /// <summary>The key that authenticated the request (Access).</summary>
    public Caller? Caller { get; set; }

    /// <summary>The end user the client named in its body (OpenAI's <c>user</c>); kept only for keys that may name users.</summary>
    public string? ClaimedUser { get; set; }

    /// <summary>The model as the client asked for it (the surface).</summary>
    public string? Model { get; set; }

    /// <summary>The catalog's id of the model (Catalog).</summary>
    public string? ResolvedModel { get; set; }

    /// <summary>The backend of the latest attempt (Fleet).</summary>
    public Backend? Backend { get; set; }

    /// <summary>Why that backend was chosen, when routes are explained (Fleet).</summary>
    public string? RouteReason { get; set; }

    /// <summary>Backends tried (Fleet).</summary>
    public int Attempts { get; set; }

    /// <summary>Backends that failed the request before another was tried (Fleet).</summary>
    public List<string>? FailedOver { get; set; }

    /// <summary>Time spent waiting for a slot, over every attempt (Fleet).</summary>
    public TimeSpan QueueWait { get; set; }

    /// <summary>Time spent waiting on backends before the answer started: sending, their first byte, reading what was buffered (Forwarding).</summary>
    public TimeSpan BackendWait { get; set; }

    /// <summary>When the first byte of the answer's body went to the client, if one did (Forwarding).</summary>
    public long? FirstByteSent { get; set; }

    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    public long BytesIn { get; set; }

    public long BytesOut { get; set; }

    /// <summary>What went wrong, in words, if anything did (whoever answered the error).</summary>
    public string? Error { get; set; }

    /// <summary>The client left before the answer was complete (whoever noticed).</summary>
    public bool Cancelled { get; set; }

    /// <summary>Whether the prompt and the answer are kept for the request log (<c>--log-bodies</c>).</summary>
    public bool KeepsBodies { get; init; }

    /// <summary>The request body, kept only with <c>--log-bodies</c>.</summary>
    public string? RequestBody { get; private set; }

    /// <summary>The start of the answer as the client got it, kept only with <c>--log-bodies</c>.</summary>
    public string? ResponseText => _answer is null ? null : Encoding.UTF8.GetString(_answer.WrittenSpan);

    /// <summary>Keeps the request body for the request log, when bodies are kept.</summary>
    public void KeepRequestBody(ReadOnlySpan<byte> body)
    {
        if (KeepsBodies)
        {
            RequestBody = Encoding.UTF8.GetString(body[..Math.Min(body.Length, MaxKeptBody)]);
        }
    }

    /// <summary>Keeps what was sent of the answer for the request log, when bodies are kept (the first 64 KB).</summary>
    public void KeepAnswer(ReadOnlySpan<byte> sent)
    {
        if (!KeepsBodies)
        {
            return;
        }

        _answer ??= new ArrayBufferWriter<byte>(1024);
        var room = MaxKeptBody - _answer.WrittenCount;
        if (room > 0)
        {
            _answer.Write(sent[..Math.Min(sent.Length, room)]);
        }
    }

    /// <summary>Adds one backend failure before failover.</summary>
    public void AddFailover(Backend backend) => (FailedOver ??= []).Add(backend.Name);
}
