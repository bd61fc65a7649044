using System.Text.Json;
using System.Text.Unicode;
using Corral.Hosting;

namespace Corral.Admin;

/// <summary>
/// Reads an admin request's JSON object body, bounded by <c>--max-body-size</c>. Anything else (empty, not JSON,
/// not UTF-8, not an object, too large) is answered with a problem that shows the expected shape.
/// </summary>
internal static class AdminBody
{
    /// <summary>Where problems found in a body are said to be.</summary>
    public const string Where = "body";

    /// <summary>The parsed body, or null after a problem answer was written.</summary>
    public static async Task<JsonDocument?> ReadAsync(HttpContext context, long maxBytes, string example)
    {
        var request = context.Request;
        if (request.ContentLength > maxBytes)
        {
            await TooLargeAsync(context, maxBytes);
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                await TooLargeAsync(context, maxBytes);
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (bytes.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, $"the body is empty; send a JSON object like {example}");
            return null;
        }

        // JSON parsing does not check the UTF-8 inside strings; reading one later would throw.
        if (!Utf8.IsValid(bytes.Span))
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, "the body is not valid UTF-8");
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, $"the body is not valid JSON ({Position(e)}); send a JSON object like {example}");
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            await ErrorResponses.WriteProblemAsync(context, StatusCodes.Status400BadRequest, $"the body must be a JSON object like {example}");
            return null;
        }

        return document;
    }

    /// <summary>Adds a problem for each field of <paramref name="body"/> that is not one of <paramref name="known"/>.</summary>
    public static void CheckFields(JsonElement body, string[] known, List<string> problems)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (Array.IndexOf(known, property.Name) < 0)
            {
                problems.Add($"{Where}: unknown field '{property.Name}' (known: {string.Join(", ", known)})");
            }
        }
    }

    /// <summary>True when the field is present with a value other than null.</summary>
    public static bool Has(JsonElement body, string field) =>
        body.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null;

    private static Task TooLargeAsync(HttpContext context, long maxBytes) =>
        ErrorResponses.WriteProblemAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body too large: the limit is {maxBytes} bytes (see --max-body-size)");

    private static string Position(JsonException e) =>
        e.LineNumber is { } line && e.BytePositionInLine is { } column
            ? $"line {line + 1}, byte {column + 1}: {FirstSentence(e.Message)}"
            : FirstSentence(e.Message);

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message.TrimEnd('.') : message[..end];
    }
}
