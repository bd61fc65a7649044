using System.Net;
using System.Text;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Forwarding;
using Corral.Hosting;
using Corral.Native;
using Corral.Pipeline;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Corral.OpenAi;

/// <summary>
/// <c>POST /v1/audio/transcriptions</c>: a multipart form (<c>model</c>, <c>file</c>, <c>response_format</c>…) passed to
/// the backend's own route, which Ollama turns into a chat with the audio. The upload is read only as far as its
/// <c>model</c> field, then streamed to the backend as the client sends it, and kept on disk behind (<see
/// cref="UploadSpool"/>: never held in memory, whatever its size), since the field may come after the file (the
/// <c>openai</c> npm client sends the file first) and failover sends the bytes again. It goes as it came, or, when
/// the backend is sent another name (a prefix, a preset's base), as the same form with that one field changed. A preset is an alias here: Ollama writes the transcription's
/// prompt itself, so no other setting of the preset has a place to go.
/// Where Ollama is wrong Corral is right instead: Ollama labels every transcription <c>application/x-ndjson</c>
/// (its chat stream's headers are sent at the first chunk, before its transcription writer sets its own), so a
/// client that parses by media type (the <c>openai</c> npm client) gets no <c>text</c>. A successful answer is
/// labelled by the form's <c>response_format</c>: <c>text/plain</c> for <c>text</c>, <c>application/json</c> otherwise.
/// </summary>
internal sealed class TranscriptionInference(UploadSpool body, string boundary, string? responseFormat) : InferenceRequest
{
    private const int MaxFieldBytes = 4096;

    protected override bool CarriesKeepAlive => false;

    /// <summary>Spools the form, finds its model and serves it through <paramref name="pipeline"/>; errors in the endpoint's shape.</summary>
    public static async Task ServeAsync(HttpContext context, InferencePipeline pipeline, CorralSettings settings)
    {
        var record = context.Features.Get<RequestRecord>();
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type)
            || !type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
        {
            // Go's own words, as Ollama answers them.
            await ErrorWriter.WriteAsync(context, ProxyError.BadRequest("failed to parse multipart form: request Content-Type isn't multipart/form-data"));
            return;
        }

        var (spool, error) = UploadSpool.Open(context.Request.BodyReader, settings.MaxBodyBytes, context.Request.ContentLength);
        if (spool is null)
        {
            await ErrorWriter.WriteAsync(context, error!);
            return;
        }

        using (spool)
        {
            // A body of unknown length shows its size only at its end: it is taken whole before it is sent anywhere.
            if (context.Request.ContentLength is null && await spool.ReadToEndAsync(context.RequestAborted) is { } tooLarge)
            {
                await ErrorWriter.WriteAsync(context, tooLarge);
                return;
            }

            string? model, format;
            try
            {
                (model, format) = await FieldsAsync(spool, boundary, context.RequestAborted);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                await ErrorWriter.WriteAsync(context, ProxyError.BadRequest("failed to parse multipart form: " + e.Message));
                return;
            }

            if (record is not null)
            {
                record.Model = model;
            }

            if (string.IsNullOrEmpty(model))
            {
                await ErrorWriter.WriteAsync(context, ProxyError.BadRequest("model is required"));
                return;
            }

            var request = new TranscriptionInference(spool, boundary, format)
            {
                Model = model,
                UpstreamPath = "/v1/audio/transcriptions",
                Session = SessionOf(context),
            };
            var failed = await pipeline.RunAsync(context, record, request);
            if (record is not null)
            {
                record.BytesIn = spool.Length;
            }

            if (failed is not null)
            {
                await ErrorWriter.WriteAsync(context, failed);
            }
        }
    }

    public override ProxyError NotFound() => ProxyError.NotFound(InferenceEndpoints.NotFound(NativeRoute.Chat, Model));

    public override HttpContent ContentFor(ModelLocation location)
    {
        var name = location.NameFor(Preset?.Model ?? Model);
        if (name == Model)
        {
            return body.ToContent();
        }

        var content = new RenamedForm(body, boundary, name);
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary=\"{boundary}\"");
        return content;
    }

    public override IRelayConverter ConverterFor(Backend backend, HttpResponseMessage upstream) =>
        upstream.IsSuccessStatusCode
            ? new Labelled(new PassThroughConverter(), (responseFormat ?? TailField("response_format")) == "text" ? "text/plain; charset=utf-8" : "application/json")
            : new PassThroughConverter();

    // A small field the form put after its file, found in its last bytes (the backend has answered, so the whole form
    // came); null when it is not there.
    private string? TailField(string name)
    {
        var tail = new byte[16 * 1024];
        var length = body.ReadTail(tail);
        var span = tail.AsSpan(0, length);
        foreach (var header in (string[])[$"name=\"{name}\"", $"name={name}\r\n", $"name={name};"])
        {
            var at = span.LastIndexOf(Encoding.ASCII.GetBytes(header));
            if (at < 0)
            {
                continue;
            }

            var rest = span[at..];
            var start = rest.IndexOf("\r\n\r\n"u8);
            var end = start < 0 ? -1 : rest[(start + 4)..].IndexOf(Encoding.ASCII.GetBytes("\r\n--" + boundary));
            return end < 0 ? null : Encoding.UTF8.GetString(rest.Slice(start + 4, end)).Trim();
        }

        return null;
    }

    /// <summary>
    /// The form's <c>model</c> and <c>response_format</c> fields, read only as far as needed: up to the first file
    /// after the model (a form that puts its fields first is routed before its file arrives), else to the model and
    /// the fields right behind it. A <c>response_format</c> after the file of such a form is read from the form's last
    /// bytes once the backend answered (<see cref="TailField"/>).
    /// </summary>
    private static async Task<(string? Model, string? ResponseFormat)> FieldsAsync(UploadSpool body, string boundary, CancellationToken cancellationToken)
    {
        string? model = null, format = null;
        await using var stream = body.OpenRead();
        var reader = new MultipartReader(boundary, stream);
        while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (section.GetContentDispositionHeader() is not { } disposition)
            {
                continue;
            }

            if (disposition.IsFileDisposition())
            {
                if (model is not null)
                {
                    break;
                }

                continue;
            }

            var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
            if (name == "model" && model is null)
            {
                model = await ValueAsync(section.Body, cancellationToken);
            }
            else if (name == "response_format" && format is null)
            {
                format = await ValueAsync(section.Body, cancellationToken);
            }
        }

        return (model, format);
    }

    private static async Task<string> ValueAsync(Stream field, CancellationToken cancellationToken)
    {
        var value = new byte[MaxFieldBytes];
        var length = 0;
        int read;
        while (length < value.Length && (read = await field.ReadAsync(value.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }

        return Encoding.UTF8.GetString(value, 0, length).Trim();
    }

    /// <summary>A pass-through answer with the media type it really has.</summary>
    private sealed class Labelled(IRelayConverter inner, string contentType) : DelegatingConverter(inner)
    {
        public override void Begin(HttpContext context, HttpResponseMessage upstream)
        {
            base.Begin(context, upstream);
            context.Response.ContentType = contentType;
        }
    }

    /// <summary>The client's form written again part by part from the spooled file, the model field's value replaced.</summary>
    private sealed class RenamedForm(UploadSpool body, string boundary, string model) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var source = body.OpenRead();
            var reader = new MultipartReader(boundary, source);
            var renamed = false;
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                var head = new StringBuilder().Append("--").Append(boundary).Append("\r\n");
                foreach (var header in section.Headers ?? [])
                {
                    head.Append(header.Key).Append(": ").Append(header.Value.ToString()).Append("\r\n");
                }

                await stream.WriteAsync(Encoding.UTF8.GetBytes(head.Append("\r\n").ToString()), cancellationToken);
                var disposition = section.GetContentDispositionHeader();
                if (!renamed && disposition is not null && !disposition.IsFileDisposition() && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("model", StringComparison.Ordinal))
                {
                    renamed = true;
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(model), cancellationToken);
                }
                else
                {
                    await section.Body.CopyToAsync(stream, cancellationToken);
                }

                await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            }

            await stream.WriteAsync(Encoding.UTF8.GetBytes("--" + boundary + "--\r\n"), cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
