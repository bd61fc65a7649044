using System.Text;
using Corral.Simulator.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Corral.Simulator.Surfaces;

/// <summary>
/// <c>POST /v1/audio/transcriptions</c>: Ollama's TranscriptionMiddleware (a multipart form as a streamed chat
/// request with the audio as an image) and TranscriptionWriter (the collected content, trimmed, as
/// <c>{"text": ...}</c> or plain text). Headers go out with the first chunk as <c>application/x-ndjson</c>, as gin
/// flushes them before the writer sets its own type.
/// </summary>
internal sealed class TranscriptionSurface : ChatSurface
{
    private const string SystemPrompt = "Transcribe the audio exactly as spoken. Output only the spoken words. Do not answer any question in the audio.";
    private const long MaxFormBytes = 25 << 20;
    private readonly string _responseFormat;
    private readonly StringBuilder _text = new();

    private TranscriptionSurface(string responseFormat)
    {
        _responseFormat = responseFormat;
    }

    /// <summary>Reads the form as the middleware does; errors are 400s with Ollama's texts.</summary>
    public static async Task<(TranscriptionSurface Surface, string Model, byte[] ChatBody)> FromRequestAsync(SimRequest request)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        byte[]? audio = null;
        if (!MediaTypeHeaderValue.TryParse(request.Http.Request.ContentType, out var type) || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiError.BadRequest("failed to parse multipart form: request Content-Type isn't multipart/form-data");
        }

        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw ApiError.BadRequest("failed to parse multipart form: no multipart boundary param in Content-Type");
        }

        try
        {
            var reader = new MultipartReader(boundary, new MemoryStream(request.Body)) { BodyLengthLimit = MaxFormBytes };
            while (await reader.ReadNextSectionAsync(request.Cancellation).ConfigureAwait(false) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? string.Empty;
                using var value = new MemoryStream();
                await section.Body.CopyToAsync(value, request.Cancellation).ConfigureAwait(false);
                if (disposition.IsFileDisposition())
                {
                    audio ??= name == "file" ? value.ToArray() : null;
                }
                else
                {
                    fields.TryAdd(name, Encoding.UTF8.GetString(value.ToArray()));
                }
            }
        }
        catch (IOException e)
        {
            throw ApiError.BadRequest("failed to parse multipart form: " + e.Message);
        }

        var model = fields.GetValueOrDefault("model") ?? request.Http.Request.Query["model"].ToString();
        request.Entry.SetBody(request.Body, model.Length > 0 ? model : null);
        if (model.Length == 0)
        {
            throw ApiError.BadRequest("model is required");
        }

        if (audio is null)
        {
            throw ApiError.BadRequest("file is required: http: no such file");
        }

        if (audio.Length == 0)
        {
            throw ApiError.BadRequest("audio file is empty");
        }

        var system = SystemPrompt;
        if (fields.GetValueOrDefault("language") is { Length: > 0 } language)
        {
            system += " The audio is in " + language + ".";
        }

        if (fields.GetValueOrDefault("prompt") is { Length: > 0 } prompt)
        {
            system += " Context: " + prompt;
        }

        var chat = Responses.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteStartArray("messages");
            w.WriteStartObject();
            w.WriteString("role", "system");
            w.WriteString("content", system);
            w.WriteEndObject();
            w.WriteStartObject();
            w.WriteString("role", "user");
            w.WriteString("content", "What exact words are spoken in this audio?");
            w.WriteStartArray("images");
            w.WriteBase64StringValue(audio);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteBoolean("stream", true);
            w.WriteStartObject("options");
            w.WriteNumber("temperature", 0);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        return (new TranscriptionSurface(fields.GetValueOrDefault("response_format") ?? string.Empty), model, chat);
    }

    public override Task WriteErrorAsync(HttpContext context, int status, string message) =>
        EncodeAsync(context, status, "application/json", w => ResponsesSurface.WriteError(w, status, message));

    protected override async Task WriteChunkAsync(SimRequest request, ChatChunk chunk)
    {
        _text.Append(chunk.Content);
        var response = request.Http.Response;
        if (!response.HasStarted)
        {
            // gin's Context.Stream flushes after every chunk: the headers leave now, with streamResponse's type.
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = Responses.NdjsonContentType;
            await response.Body.FlushAsync(request.Cancellation).ConfigureAwait(false);
        }
    }

    public override async Task DoneAsync(SimRequest request, ChatResult result)
    {
        _text.Append(result.Content);
        var text = _text.ToString().Trim();
        var response = request.Http.Response;
        if (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = _responseFormat == "text" ? "text/plain" : "application/json";
        }

        var body = _responseFormat == "text"
            ? Encoding.UTF8.GetBytes(text)
            : [.. Responses.Serialize(w =>
            {
                w.WriteStartObject();
                w.WriteString("text", text);
                w.WriteEndObject();
            }), (byte)'\n'];
        await response.Body.WriteAsync(body, request.Cancellation).ConfigureAwait(false);
    }
}
