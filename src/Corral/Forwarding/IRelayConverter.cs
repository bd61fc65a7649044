using System.Buffers;

namespace Corral.Forwarding;

/// <summary>
/// How the <see cref="Relay"/> shapes one backend answer for its reader: passed through as it is (native), turned
/// line by line into server-sent events (OpenAI streams), collected and translated whole (OpenAI answers), or
/// handed line by line to a merger (model-management fan-out). The relay owns the reading, the timeouts and the
/// failures; a converter only says what bytes go out.
/// </summary>
internal interface IRelayConverter
{
    /// <summary>Whether the answer starts (headers sent) before its body is read: true for streams.</summary>
    bool Streams { get; }

    /// <summary>True once the converter has the whole answer (a final line): the relay stops reading.</summary>
    bool Finished { get; }

    /// <summary>Prompt tokens from the backend's final metrics, once seen.</summary>
    int PromptTokens { get; }

    /// <summary>Completion tokens from the backend's final metrics, once seen.</summary>
    int CompletionTokens { get; }

    /// <summary>The error the answer carried (a backend's error status or error line), in words.</summary>
    string? Error { get; }

    /// <summary>Sets the status and headers of the answer (nothing is sent yet).</summary>
    void Begin(HttpContext context, HttpResponseMessage upstream);

    /// <summary>Converts one chunk of the backend's body into bytes for the reader (possibly none).</summary>
    void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output);

    /// <summary>
    /// The backend's body ended: writes what ends the answer. False when the body ended too early and the answer
    /// is not whole (it then ends the way <see cref="Fail"/> ends it). <paramref name="context"/> is null when the
    /// relay has no client (a fan-out).
    /// </summary>
    ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output);

    /// <summary>
    /// The backend broke off or went silent: ends the answer with <paramref name="message"/>. False when nothing
    /// can be written that the reader would understand, and only cutting the connection tells it.
    /// </summary>
    bool Fail(string message, IBufferWriter<byte> output);
}
