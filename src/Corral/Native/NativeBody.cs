using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Native;

/// <summary>Reads a native route's JSON body, answering Ollama-shaped errors for bad input.</summary>
internal static class NativeBody
{
    /// <summary>The parsed body, or null after an error answer was written.</summary>
    public static async Task<JsonRequestBody?> ReadAsync(HttpContext context, CorralSettings settings)
    {
        var (body, status, error) = await JsonRequestBody.ReadAsync(context.Request.BodyReader, settings.MaxBodyBytes, context.RequestAborted);
        if (body is null)
        {
            await OllamaError.WriteAsync(context, status, error!);
        }

        return body;
    }
}
