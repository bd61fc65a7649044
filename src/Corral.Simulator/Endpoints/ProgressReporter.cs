using System.Text.Json;
using Corral.Simulator.Http;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Endpoints;

/// <summary>
/// api.ProgressResponse output of pull, push and create: streamed lines, or with <c>stream:false</c>
/// only the last status (Ollama's waitForStream), errors then as 500 JSON.
/// </summary>
internal sealed class ProgressReporter
{
    private readonly SimRequest _request;
    private readonly NdjsonStream? _lines;
    private readonly TimeProvider _time;
    private readonly TimeSpan _pace;
    private byte[]? _last;

    public ProgressReporter(SimRequest request, bool stream, TimeProvider time, bool paced)
    {
        _request = request;
        _lines = stream ? new NdjsonStream(request) : null;
        _time = time;
        _pace = paced ? TimeSpan.FromMilliseconds(20) : TimeSpan.Zero;
    }

    public async Task ReportAsync(string status, string? digest = null, long total = 0, long completed = 0)
    {
        if (_pace > TimeSpan.Zero && (_lines?.Started ?? _last is not null))
        {
            await Task.Delay(_pace, _time, _request.Cancellation).ConfigureAwait(false);
        }

        void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteString("status", status);
            if (digest is not null)
            {
                w.WriteString("digest", digest);
            }

            w.WriteNonZero("total", total);
            w.WriteNonZero("completed", completed);
            w.WriteEndObject();
        }

        if (_lines is not null)
        {
            await _lines.WriteLineAsync(Write).ConfigureAwait(false);
        }
        else
        {
            _last = Responses.Serialize(Write);
        }
    }

    /// <summary>Ends with an error: a status answer before any line, else a final <c>{"error"}</c> line.</summary>
    public Task FailAsync(string message, int status = StatusCodes.Status500InternalServerError) =>
        _lines is not null
            ? _lines.WriteErrorAsync(status, message)
            : Responses.ErrorAsync(_request.Http, status, message);

    /// <summary>With <c>stream:false</c>, writes the last status object.</summary>
    public Task CompleteAsync() =>
        _lines is null && _last is not null
            ? Responses.BytesAsync(_request.Http, StatusCodes.Status200OK, Responses.JsonContentType, _last)
            : Task.CompletedTask;
}
