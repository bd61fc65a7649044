using System.Text.Json;
using Corral.Forwarding;

namespace Corral.Hosting;

/// <summary>Writes an error in the shape of the surface the request came in on.</summary>
internal static class ErrorResponses
{
    public static Surface SurfaceOf(PathString path)
    {
        if (path.StartsWithSegments("/admin"))
        {
            return Surface.Admin;
        }

        return path.StartsWithSegments("/v1") || path.StartsWithSegments("/ollama/v1") ? Surface.OpenAi : Surface.Native;
    }

    /// <summary>Writes the error unless the response has already started (then there is nothing sane to add).</summary>
    public static Task WriteAsync(HttpContext context, int status, string message, string? code = null)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        return SurfaceOf(context.Request.Path) switch
        {
            Surface.Admin => WriteProblemAsync(context, status, message),
            Surface.OpenAi => WriteOpenAiAsync(context, status, message, code),
            _ => OllamaError.WriteAsync(context, status, message),
        };
    }

    /// <summary>RFC 9457 problem details, as the admin API answers errors.</summary>
    public static Task WriteProblemAsync(HttpContext context, int status, string detail)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/problem+json";
        return JsonSerializer.SerializeAsync(response.Body, new ProblemBody(
            "about:blank",
            Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
            status,
            detail), CorralJsonContext.Default.ProblemBody, context.RequestAborted);
    }

    /// <summary>OpenAI's envelope: <c>{"error":{"message","type","param","code"}}</c>.</summary>
    public static Task WriteOpenAiAsync(HttpContext context, int status, string message, string? code)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (context.Features.Get<Pipeline.RequestRecord>() is { } record)
        {
            record.Error ??= message;
        }

        var type = status switch
        {
            400 or 401 or 403 or 413 or 405 => "invalid_request_error",
            404 => "not_found_error",
            _ => "api_error",
        };
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            writer.WriteNull("param");
            if (code is null)
            {
                writer.WriteNull("code");
            }
            else
            {
                writer.WriteString("code", code);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.Length;
        return response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).AsTask();
    }
}

/// <summary>The body of an RFC 9457 problem answer.</summary>
internal sealed record ProblemBody(string Type, string Title, int Status, string Detail);
