using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Corral.Pipeline;

namespace Corral.Forwarding;

/// <summary>
/// A JSON request body read whole into a pooled buffer (bounded by the configured limit). Only the top-level
/// fields routing needs are decoded; the original bytes are forwarded untouched unless a model prefix must be
/// stripped, in which case just that value is spliced.
/// </summary>
internal sealed class JsonRequestBody : IDisposable
{
    private static readonly string[] s_routingFields = ["model", "name", "source", "destination", "from"];

    private byte[] _buffer;
    private readonly Dictionary<string, (int Start, int Length, string? Value)> _fields = new(StringComparer.Ordinal);

    private JsonRequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>The <c>keep_alive</c> field, when present and understood (negative: for ever).</summary>
    public TimeSpan? KeepAlive { get; private set; }

    /// <summary>The <c>stream</c> field, when present as a boolean.</summary>
    public bool? Stream { get; private set; }

    /// <summary>A top-level string field (model, name, source, destination, from), or null when absent.</summary>
    public string? Get(string field) => _fields.TryGetValue(field, out var f) ? f.Value : null;

    /// <summary>True when the field is present at the top level (with any value).</summary>
    public bool Has(string field) => _fields.ContainsKey(field);

    /// <summary>Content carrying a copy of the body with some top-level string fields replaced.</summary>
    public HttpContent ToContent(IReadOnlyList<(string Field, string Value)> replacements)
    {
        if (replacements.Count == 0)
        {
            return ToContent();
        }

        var content = new ByteArrayContent(Splice(replacements));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private byte[] Splice(IReadOnlyList<(string Field, string Value)> replacements)
    {
        var edits = replacements
            .Where(r => _fields.ContainsKey(r.Field))
            .Select(r => (Span: _fields[r.Field], Bytes: Encoding.UTF8.GetBytes(JsonSerializer.Serialize(r.Value, JsonRequestBodyJson.Default.String))))
            .OrderBy(e => e.Span.Start)
            .ToArray();
        var output = new MemoryStream(Length + 64);
        var position = 0;
        foreach (var (span, bytes) in edits)
        {
            output.Write(_buffer, position, span.Start - position);
            output.Write(bytes);
            position = span.Start + span.Length;
        }

        output.Write(_buffer, position, Length - position);
        return output.ToArray();
    }

    /// <summary>Content for a backend request carrying the bytes exactly as the client sent them.</summary>
    public HttpContent ToContent()
    {
        var content = new ReadOnlyMemoryContent(Memory);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads and checks the body. On failure returns null and the error (Ollama's words), as a value.</summary>
    public static async Task<(JsonRequestBody? Body, ProxyError? Error)> ReadAsync(PipeReader reader, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var length = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var sequence = result.Buffer;
                if (length + sequence.Length > maxBytes)
                {
                    reader.AdvanceTo(sequence.End);
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, ProxyError.TooLarge($"request body too large: the limit is {maxBytes} bytes (see --max-body-size)"));
                }

                if (length + sequence.Length > buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Max(buffer.Length * 2L, length + sequence.Length));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                sequence.CopyTo(buffer.AsSpan(length));
                length += (int)sequence.Length;
                reader.AdvanceTo(sequence.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        var body = new JsonRequestBody(buffer, length);
        var error = body.Parse();
        if (error is not null)
        {
            body.Dispose();
            return (null, ProxyError.BadRequest(error));
        }

        return (body, null);
    }

    private string? Parse()
    {
        var span = _buffer.AsSpan(0, Length);
        if (span.Trim(" \t\r\n"u8).IsEmpty)
        {
            return "missing request body";
        }

        var reader = new Utf8JsonReader(span, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return $"invalid request body: expected a JSON object, got {Describe(reader.TokenType)}";
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string? field = null;
                foreach (var candidate in s_routingFields)
                {
                    if (reader.ValueTextEquals(candidate))
                    {
                        field = candidate;
                        break;
                    }
                }

                var isStream = field is null && reader.ValueTextEquals("stream"u8);
                var isKeepAlive = field is null && reader.ValueTextEquals("keep_alive"u8);
                reader.Read();
                if (isKeepAlive)
                {
                    KeepAlive = Fleet.KeepAlive.Read(ref reader);
                }

                if (field is not null)
                {
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Null))
                    {
                        return $"invalid request body: \"{field}\" must be a string, not {Describe(reader.TokenType)}";
                    }

                    var start = (int)reader.TokenStartIndex;
                    var value = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    _fields[field] = (start, (int)reader.BytesConsumed - start, value);
                }
                else if (isStream && reader.TokenType is JsonTokenType.True or JsonTokenType.False)
                {
                    Stream = reader.GetBoolean();
                }
                else if (isStream && reader.TokenType != JsonTokenType.Null)
                {
                    return $"invalid request body: \"stream\" must be true or false, not {Describe(reader.TokenType)}";
                }

                reader.Skip();
            }

            // Read to the end so that trailing garbage or truncation is reported too.
            while (reader.Read())
            {
            }

            return null;
        }
        catch (JsonException e)
        {
            return $"invalid JSON in request body: {TrimMessage(e.Message)}";
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString throws this for a string that is not valid UTF-8.
            return $"invalid JSON in request body: {e.Message}";
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject => "an object",
        _ => "nothing",
    };

    private static string TrimMessage(string message)
    {
        // System.Text.Json appends " Path: $ | LineNumber: 0 | BytePositionInLine: 1." — keep the position, drop the noise.
        var path = message.IndexOf(" Path:", StringComparison.Ordinal);
        var line = message.IndexOf("LineNumber:", StringComparison.Ordinal);
        return path < 0 || line < 0 ? message : message[..path] + " (" + message[line..].TrimEnd('.') + ")";
    }
}

/// <summary>Source-generated serializer for encoding replacement strings exactly as JSON requires.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class JsonRequestBodyJson : System.Text.Json.Serialization.JsonSerializerContext;
