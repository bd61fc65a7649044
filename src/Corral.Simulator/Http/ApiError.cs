using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Http;

/// <summary>An Ollama error answer, <c>{"error":"..."}</c> with a status, raised before any byte is written.</summary>
internal sealed class ApiError : Exception
{
    public ApiError(int status, string message)
        : base(message)
    {
        Status = status;
    }

    public int Status { get; }

    public static ApiError BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    public static ApiError NotFound(string message) => new(StatusCodes.Status404NotFound, message);
}
