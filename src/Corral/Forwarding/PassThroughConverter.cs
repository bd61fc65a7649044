using System.Buffers;
using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;

namespace Corral.Forwarding;

/// <summary>
/// A native answer as the backend wrote it: status, headers (hop-by-hop ones dropped) and body bytes untouched.
/// On the way the token counts are read from the final metrics (<see cref="TokenScanner"/>) and an error answer's
/// message is kept for the record. A stream that breaks off ends with a final <c>{"error":…}</c> line, as Ollama
/// ends its own failed streams.
/// </summary>
internal sealed class PassThroughConverter : IRelayConverter
{
    private const int MaxErrorBody = 4096;

    private TokenScanner _tokens;
    private byte[]? _errorBody;
    private int _errorLength;
    private bool _ndjson;
    private string? _error;

    public bool Streams { get; private set; }

    public bool Finished => false;

    public int PromptTokens => _tokens.PromptTokens;

    public int CompletionTokens => _tokens.CompletionTokens;

    public string? Error => _error ?? _tokens.Error;

    public void Begin(HttpContext context, HttpResponseMessage upstream)
    {
        var response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        CopyHeaders(upstream, response);
        Streams = upstream.Content.Headers.ContentLength is null;
        // Read as sent, not parsed: parsing a media type costs more than the rest of the headers.
        _ndjson = upstream.Content.Headers.NonValidated.TryGetValues("Content-Type", out var type)
            && type.ToString().StartsWith("application/x-ndjson", StringComparison.OrdinalIgnoreCase);
        if (!upstream.IsSuccessStatusCode)
        {
            _errorBody = [];
            _error = $"the backend answered {(int)upstream.StatusCode}";
        }
    }

    public void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
    {
        output.Write(chunk);
        _tokens.Scan(chunk);
        if (_errorBody is not null && _errorLength < MaxErrorBody)
        {
            var take = Math.Min(chunk.Length, MaxErrorBody - _errorLength);
            if (_errorBody.Length < _errorLength + take)
            {
                Array.Resize(ref _errorBody, MaxErrorBody);
            }

            chunk[..take].CopyTo(_errorBody.AsSpan(_errorLength));
            _errorLength += take;
        }
    }

    public ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output)
    {
        if (_errorBody is not null && _errorLength > 0)
        {
            _error = OllamaError.MessageOf(_errorBody.AsSpan(0, _errorLength));
        }

        return ValueTask.FromResult(true);
    }

    public bool Fail(string message, IBufferWriter<byte> output)
    {
        _error = message;
        if (!_ndjson)
        {
            return false;
        }

        output.Write(OllamaError.Encode(message));
        output.Write("\n"u8);
        return true;
    }

    /// <summary>Copies the backend's headers, without those that belong to its own connection.</summary>
    internal static void CopyHeaders(HttpResponseMessage source, HttpResponse target)
    {
        foreach (var header in source.Headers.NonValidated)
        {
            if (!IsHopByHop(header.Key))
            {
                target.Headers[header.Key] = Values(header.Value);
            }
        }

        foreach (var header in source.Content.Headers.NonValidated)
        {
            target.Headers[header.Key] = Values(header.Value);
        }
    }

    private static StringValues Values(HeaderStringValues values) =>
        values.Count == 1 ? new StringValues(values.ToString()) : new StringValues(values.ToArray());

    private static bool IsHopByHop(string name) =>
        name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Trailer", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Date", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Server", StringComparison.OrdinalIgnoreCase);
}
