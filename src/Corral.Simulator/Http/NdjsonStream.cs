using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Http;

/// <summary>
/// An application/x-ndjson answer: every line is written and flushed on its own. Applies the
/// stream faults (die or error after N lines). Errors raised before the first line become an
/// ordinary JSON error answer, as in Ollama's streamResponse.
/// </summary>
internal sealed class NdjsonStream
{
    public const string ModelError = "an error was encountered while running the model";

    private static readonly TimeSpan s_drainTime = TimeSpan.FromMilliseconds(100);
    private static readonly byte[] s_newLine = "\n"u8.ToArray();
    private readonly HttpContext _context;
    private readonly JournalEntry _entry;
    private readonly int _dieAfterLines;
    private readonly int _errorAfterLines;
    private readonly CancellationToken _cancellationToken;

    public NdjsonStream(SimRequest request)
    {
        _context = request.Http;
        _entry = request.Entry;
        _dieAfterLines = request.Faults.DieAfterLines;
        _errorAfterLines = request.Faults.ErrorAfterLines;
        _cancellationToken = request.Cancellation;
    }

    public int LinesWritten { get; private set; }

    public bool Started => LinesWritten > 0;

    /// <summary>Writes one line; throws <see cref="StreamStoppedException"/> when a fault ends the stream here.</summary>
    public async Task WriteLineAsync(Action<Utf8JsonWriter> write)
    {
        await WriteRawLineAsync(Responses.Serialize(write)).ConfigureAwait(false);
        if (_dieAfterLines > 0 && LinesWritten >= _dieAfterLines)
        {
            // Kestrel's flush hands the bytes to its transport, not yet to the wire; give them a moment to
            // leave so the client really sees N lines before the connection drops (real time on purpose).
            await Task.Delay(s_drainTime, CancellationToken.None).ConfigureAwait(false);
            _entry.MarkServerAborted();
            _context.Abort();
            throw new StreamStoppedException();
        }

        if (_errorAfterLines > 0 && LinesWritten >= _errorAfterLines)
        {
            await WriteErrorAsync(StatusCodes.Status500InternalServerError, ModelError).ConfigureAwait(false);
            throw new StreamStoppedException();
        }
    }

    /// <summary>Before the first line: a JSON error answer with <paramref name="status"/>; after: a final error line.</summary>
    public async Task WriteErrorAsync(int status, string message)
    {
        if (!Started)
        {
            await Responses.ErrorAsync(_context, status, message).ConfigureAwait(false);
            return;
        }

        await WriteRawLineAsync(Responses.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        })).ConfigureAwait(false);
    }

    private async Task WriteRawLineAsync(byte[] json)
    {
        var response = _context.Response;
        if (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = Responses.NdjsonContentType;
        }

        await response.Body.WriteAsync(json, _cancellationToken).ConfigureAwait(false);
        await response.Body.WriteAsync(s_newLine, _cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(_cancellationToken).ConfigureAwait(false);
        LinesWritten++;
    }
}
