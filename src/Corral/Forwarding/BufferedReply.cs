using Corral.Fleet;

namespace Corral.Forwarding;

/// <summary>A small, complete backend answer (a listing, copy, delete, a blob check), or why there is none.</summary>
internal sealed record BufferedReply(Backend Backend, int Status, byte[] Body, string? ContentType, UpstreamFailure? Failure)
{
    public bool IsSuccess => Failure is null && Status is >= 200 and < 300;

    /// <summary>The error of a failed reply, in words: the transport failure, or the backend's own error text.</summary>
    public string ErrorMessage => Failure?.Cause ?? OllamaError.MessageOf(Body);

    /// <summary>The status a client gets for this reply: the backend's, or 502 when it could not be reached.</summary>
    public int ClientStatus => Failure is null ? Status : StatusCodes.Status502BadGateway;
}
