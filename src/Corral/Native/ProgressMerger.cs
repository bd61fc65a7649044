using System.Text.Json;

namespace Corral.Native;

/// <summary>
/// Folds the NDJSON progress streams of several backends (pull, create, push) into one Ollama-format stream a
/// client can render as one progress bar: a plain status is shown once, a layer's <c>total</c> and
/// <c>completed</c> are summed across backends, and the final line says success only when every backend
/// succeeded, otherwise it names each backend that failed and why. With a single backend every line passes
/// through unchanged; only its final <c>success</c> is held back until the caller is ready to send it.
/// </summary>
internal sealed class ProgressMerger
{
    private readonly string[] _backends;
    private readonly string?[] _errors;
    private readonly bool[] _succeeded;
    private readonly HashSet<string> _statusesShown = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Total, long Completed, bool HasCompleted)[]> _layers = new(StringComparer.Ordinal);
    private bool _singleSourceFailed;

    public ProgressMerger(IReadOnlyList<string> backends)
    {
        _backends = [.. backends];
        _errors = new string?[_backends.Length];
        _succeeded = new bool[_backends.Length];
    }

    /// <summary>True when every backend reported success.</summary>
    public bool Succeeded => Array.TrueForAll(_succeeded, s => s);

    /// <summary>Takes one line from backend <paramref name="source"/>; returns the line to send now, if any.</summary>
    public byte[]? Accept(int source, ReadOnlySpan<byte> line)
    {
        ProgressLine parsed;
        try
        {
            parsed = ProgressLine.Parse(line);
        }
        catch (JsonException)
        {
            return null;
        }

        if (parsed.Error is not null)
        {
            Fail(source, parsed.Error);
            if (_backends.Length == 1)
            {
                _singleSourceFailed = true;
                return line.ToArray();
            }

            return null;
        }

        if (parsed.Status == "success")
        {
            _succeeded[source] = true;
            return null;
        }

        if (_backends.Length == 1)
        {
            return line.ToArray();
        }

        if (parsed.Status is null)
        {
            return null;
        }

        if (parsed.Digest is not null && parsed.Total is not null)
        {
            if (!_layers.TryGetValue(parsed.Digest, out var perBackend))
            {
                perBackend = new (long, long, bool)[_backends.Length];
                _layers[parsed.Digest] = perBackend;
            }

            perBackend[source] = (parsed.Total.Value, parsed.Completed ?? 0, parsed.Completed is not null);
            long total = 0, completed = 0;
            var hasCompleted = false;
            foreach (var layer in perBackend)
            {
                total += layer.Total;
                completed += layer.Completed;
                hasCompleted |= layer.HasCompleted;
            }

            return Write(w =>
            {
                w.WriteString("status", parsed.Status);
                w.WriteString("digest", parsed.Digest);
                w.WriteNumber("total", total);
                if (hasCompleted)
                {
                    w.WriteNumber("completed", completed);
                }
            });
        }

        return _statusesShown.Add(parsed.Status) ? Write(w => w.WriteString("status", parsed.Status)) : null;
    }

    /// <summary>Records that backend <paramref name="source"/> failed (error line, error status, unreachable).</summary>
    public void Fail(int source, string error) => _errors[source] ??= error;

    /// <summary>
    /// The last line: <c>{"status":"success"}</c> when every backend succeeded, otherwise an error naming the
    /// backends that failed; null when a single backend's error line was already passed through.
    /// </summary>
    public byte[]? Final(string operation)
    {
        if (Succeeded)
        {
            return Write(w => w.WriteString("status", "success"));
        }

        if (_singleSourceFailed)
        {
            return null;
        }

        return Write(w => w.WriteString("error", Summary(operation)));
    }

    /// <summary>Why the operation did not succeed everywhere, naming each backend.</summary>
    public string Summary(string operation)
    {
        var failed = new List<string>();
        var succeeded = new List<string>();
        for (var i = 0; i < _backends.Length; i++)
        {
            if (_succeeded[i])
            {
                succeeded.Add($"'{_backends[i]}'");
            }
            else
            {
                failed.Add($"backend '{_backends[i]}': {_errors[i] ?? "the stream ended without success"}");
            }
        }

        var text = $"{operation} failed on {failed.Count} of {_backends.Length} backends: {string.Join("; ", failed)}";
        return succeeded.Count > 0 ? text + $" (succeeded on {string.Join(", ", succeeded)})" : text;
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream(96);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private readonly record struct ProgressLine(string? Status, string? Digest, long? Total, long? Completed, string? Error)
    {
        public static ProgressLine Parse(ReadOnlySpan<byte> line)
        {
            var reader = new Utf8JsonReader(line);
            string? status = null, digest = null, error = null;
            long? total = null, completed = null;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "status" when reader.TokenType == JsonTokenType.String:
                        status = reader.GetString();
                        break;
                    case "digest" when reader.TokenType == JsonTokenType.String:
                        digest = reader.GetString();
                        break;
                    case "error" when reader.TokenType == JsonTokenType.String:
                        error = reader.GetString();
                        break;
                    case "total" when reader.TokenType == JsonTokenType.Number:
                        total = reader.GetInt64();
                        break;
                    case "completed" when reader.TokenType == JsonTokenType.Number:
                        completed = reader.GetInt64();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            return new ProgressLine(status, digest, total, completed, error);
        }
    }
}
