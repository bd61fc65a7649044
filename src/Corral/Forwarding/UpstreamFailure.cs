using System.Net.Sockets;
using System.Security.Authentication;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Forwarding;

/// <summary>
/// Why a backend did not answer, as a value: the kind (which decides failover and health), and the cause in
/// words a user can act on ("connection refused (is Ollama running…)", "timed out connecting").
/// </summary>
internal sealed record UpstreamFailure(FailureKind Kind, string Cause)
{
    /// <summary>
    /// Whether the failure happened before the backend could have started on the request (no connection, refused,
    /// reset, closed without answering), so that sending it to another backend is safe.
    /// </summary>
    public bool IsRetryable => Kind is FailureKind.Refused or FailureKind.ConnectTimeout or FailureKind.Unreachable or FailureKind.ClosedEarly;

    /// <summary>Nothing listens at the backend's address: it is down, no threshold needed.</summary>
    public bool IsRefused => Kind == FailureKind.Refused;

    /// <summary>The failure of an exchange that threw <paramref name="exception"/>.</summary>
    public static UpstreamFailure Of(Exception exception) => new(KindOf(exception), Describe(exception));

    /// <summary>No answer began within <paramref name="timeout"/>, named by <paramref name="which"/> ("the first-byte timeout").</summary>
    public static UpstreamFailure TimedOut(TimeSpan timeout, string which) =>
        new(FailureKind.AnswerTimeout, $"no answer within {which} of {Durations.Seconds(timeout)} s");

    /// <summary>The error text for a backend that could not be reached, naming it and the cause.</summary>
    public string Unreachable(Backend backend) => $"{backend.Describe()} could not be reached: {Cause}";

    /// <summary>The error text for a backend that could not be reached, naming it and the cause.</summary>
    public static string Unreachable(Backend backend, Exception exception) => $"{backend.Describe()} could not be reached: {Describe(exception)}";

    /// <summary>The error text for a backend whose answer broke off after it began.</summary>
    public static string MidStream(Backend backend, string cause) => $"{backend.Describe()} failed mid-stream: {cause}";

    private static FailureKind KindOf(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return FailureKind.Refused;
                case SocketException socket:
                    return socket.SocketErrorCode is SocketError.ConnectionReset or SocketError.TimedOut or SocketError.HostUnreachable
                        or SocketError.NetworkUnreachable or SocketError.ConnectionAborted or SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData
                        ? FailureKind.Unreachable
                        : FailureKind.Other;
                case TimeoutException:
                    return FailureKind.ConnectTimeout;
                case HttpIOException { HttpRequestError: HttpRequestError.ResponseEnded }:
                    return FailureKind.ClosedEarly;
                case HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded } when e.InnerException is null:
                    return FailureKind.ClosedEarly;
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } when e.InnerException is null:
                    return FailureKind.Unreachable;
            }
        }

        return FailureKind.Other;
    }

    /// <summary>The cause of <paramref name="exception"/> in words.</summary>
    public static string Describe(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused (is Ollama running and listening on that address? OLLAMA_HOST=0.0.0.0 makes it listen beyond loopback)",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the host name could not be resolved (DNS)",
                        SocketError.TimedOut => "timed out connecting",
                        SocketError.ConnectionReset => "connection reset by the backend",
                        SocketError.NetworkUnreachable or SocketError.HostUnreachable => "the network or host is unreachable",
                        _ => $"socket error: {socket.SocketErrorCode}",
                    };
                case TimeoutException timeout:
                    return timeout.Message;
                case AuthenticationException:
                    return $"TLS handshake failed: {e.Message}";
                case HttpIOException io when io.HttpRequestError == HttpRequestError.ResponseEnded:
                    return "the backend closed the connection before the answer was complete";
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }:
                    return "the host name could not be resolved (DNS)";
                case HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse }:
                    return "the backend's answer is not valid HTTP (is this an Ollama server?)";
            }
        }

        return exception is OperationCanceledException ? "timed out connecting" : exception.Message;
    }
}

/// <summary>The kinds of <see cref="UpstreamFailure"/>.</summary>
internal enum FailureKind
{
    /// <summary>The connection was refused: nothing listens there.</summary>
    Refused,

    /// <summary>No connection within the connect timeout.</summary>
    ConnectTimeout,

    /// <summary>Reset, unreachable network or host, or a name that does not resolve.</summary>
    Unreachable,

    /// <summary>The backend closed the connection before answering.</summary>
    ClosedEarly,

    /// <summary>The backend took the request but did not start answering in time.</summary>
    AnswerTimeout,

    /// <summary>Anything else (TLS, invalid HTTP).</summary>
    Other,
}
