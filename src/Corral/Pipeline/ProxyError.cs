namespace Corral.Pipeline;

/// <summary>
/// An error as a value: what went wrong, the status it earns and the words for the client. Every stage returns
/// one instead of writing an answer; the surface that owns the endpoint writes it in its own shape
/// (<see cref="ErrorWriter"/>).
/// </summary>
/// <param name="Kind">What kind of failure; a surface may word some kinds its own way (OpenAI's 401).</param>
/// <param name="Status">The HTTP status the client gets.</param>
/// <param name="Message">The words for the client: Ollama's own texts where Ollama has one.</param>
internal sealed record ProxyError(ErrorKind Kind, int Status, string Message)
{
    /// <summary>When trying again makes sense (<c>Retry-After</c>), for busy and unavailable answers.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>A wait as <c>Retry-After</c> says it: whole seconds, rounded up, from 1 to a day.</summary>
    public static long RetryAfterSeconds(TimeSpan wait) => (long)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, 86400);

    /// <summary>The methods the path takes (<c>Allow</c>), for a 405.</summary>
    public string? Allow { get; init; }

    /// <summary>The client left: there is nobody to answer.</summary>
    public static ProxyError ClientLeft { get; } = new(ErrorKind.ClientLeft, 499, "the client closed the request");

    public static ProxyError BadRequest(string message) => new(ErrorKind.BadRequest, 400, message);

    public static ProxyError Unauthorized { get; } = new(ErrorKind.Unauthorized, 401, "unauthorized");

    public static ProxyError Forbidden(string message) => new(ErrorKind.Forbidden, 403, message);

    public static ProxyError NotFound(string message) => new(ErrorKind.NotFound, 404, message);

    public static ProxyError MethodNotAllowed(string message, string allow) => new(ErrorKind.MethodNotAllowed, 405, message) { Allow = allow };

    public static ProxyError TooLarge(string message) => new(ErrorKind.TooLarge, 413, message);

    /// <summary>Which of a key's rates was used up (OpenAI's error type: <c>requests</c> or <c>tokens</c>), for a 429.</summary>
    public string? RateLimitType { get; init; }

    /// <summary>A key used up one of its rates (<c>requestsPerMinute</c>, <c>tokensPerMinute</c>, <c>tokensPerDay</c>).</summary>
    public static ProxyError RateLimited(string message, string type, TimeSpan retryAfter) =>
        new(ErrorKind.RateLimited, 429, message) { RateLimitType = type, RetryAfter = retryAfter };

    /// <summary>Corral's queue (or a backend's) has no room: Ollama's "server busy".</summary>
    public static ProxyError Busy(string message, TimeSpan retryAfter) => new(ErrorKind.Busy, 503, message) { RetryAfter = retryAfter };

    /// <summary>No backend that holds the model can take requests now.</summary>
    public static ProxyError Unavailable(string message, TimeSpan retryAfter) => new(ErrorKind.Unavailable, 503, message) { RetryAfter = retryAfter };

    public static ProxyError BadGateway(string message) => new(ErrorKind.BadGateway, 502, message);

    public static ProxyError GatewayTimeout(string message) => new(ErrorKind.GatewayTimeout, 504, message);

    /// <summary>A backend answered an error status; its message is passed on with its status.</summary>
    public static ProxyError Upstream(int status, string message) => new(ErrorKind.Upstream, status, message);

    public static ProxyError Internal { get; } = new(ErrorKind.Internal, 500, "internal error in Corral (details are in its log)");
}

/// <summary>The kinds of <see cref="ProxyError"/>.</summary>
internal enum ErrorKind
{
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    TooLarge,
    RateLimited,
    Busy,
    Unavailable,
    BadGateway,
    GatewayTimeout,
    Upstream,
    Internal,
    ClientLeft,
}
