using System.Net.Sockets;
using System.Security.Authentication;
using Corral.Fleet;

namespace Corral.Forwarding;

/// <summary>Turns a transport exception into words a user can act on ("connection refused", "timed out").</summary>
internal static class UpstreamFailure
{
    /// <summary>The error text for a backend that could not be reached, naming it and the cause.</summary>
    public static string Unreachable(Backend backend, Exception exception) =>
        $"{backend.Describe()} could not be reached: {Describe(exception)}";

    /// <summary>The error text for a backend whose answer broke off after it began.</summary>
    public static string MidStream(Backend backend, string cause) =>
        $"{backend.Describe()} failed mid-stream: {cause}";

    /// <summary>
    /// Whether a failure happened before the backend could have started on the request (no connection, refused,
    /// reset, closed without answering), so that sending it to another backend is safe.
    /// </summary>
    public static bool IsRetryable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SocketException socket:
                    return socket.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset or SocketError.TimedOut
                        or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.ConnectionAborted
                        or SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData;
                case TimeoutException:
                    return true;
                case HttpIOException io:
                    return io.HttpRequestError == HttpRequestError.ResponseEnded;
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ResponseEnded } when e.InnerException is null:
                    return true;
            }
        }

        return false;
    }

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
