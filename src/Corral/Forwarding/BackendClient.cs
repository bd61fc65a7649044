using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Corral.Access;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Forwarding;

/// <summary>
/// Sends requests to backends over one pooled <see cref="SocketsHttpHandler"/>. It never follows redirects,
/// stores cookies, decompresses or uses a proxy, and answers are read as they stream (never buffered).
/// </summary>
internal sealed class BackendClient : IDisposable
{
    private static readonly HttpRequestOptionsKey<TimeSpan> s_connectTimeout = new("Corral.ConnectTimeout");

    private readonly HttpMessageInvoker _invoker;
    private readonly bool _forwardKeyHeaders;
    private readonly TimeSpan _connectTimeout;

    public BackendClient(CorralSettings settings)
    {
        _forwardKeyHeaders = settings.ForwardKeyHeaders;
        _connectTimeout = settings.ConnectTimeout;
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            // Each backend has its own connect timeout: ConnectAsync reads it from the request.
            ConnectTimeout = Timeout.InfiniteTimeSpan,
            ConnectCallback = (context, cancellationToken) => ConnectAsync(context, _connectTimeout, cancellationToken),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            MaxConnectionsPerServer = int.MaxValue,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
        }, disposeHandler: true);
    }

    /// <summary>
    /// Creates a request to <paramref name="backend"/>. The Host header is the backend's own (an Ollama bound to
    /// loopback rejects unknown hosts), and Authorization carries the backend's key, never the client's.
    /// </summary>
    public HttpRequestMessage CreateRequest(Backend backend, HttpMethod method, string pathAndQuery, Caller? caller)
    {
        var request = new HttpRequestMessage(method, backend.UriFor(pathAndQuery))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (backend.ConnectTimeout != _connectTimeout)
        {
            // Only a backend with its own connect timeout pays for the options dictionary.
            request.Options.Set(s_connectTimeout, backend.ConnectTimeout);
        }

        if (backend.Options.Key is { } key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        if (_forwardKeyHeaders && caller is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Corral-Key-Name", Uri.EscapeDataString(caller.KeyName));
            request.Headers.TryAddWithoutValidation("X-Corral-Key-Id", caller.KeyId);
        }

        return request;
    }

    /// <summary>Sends the request and returns as soon as the response headers arrived.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _invoker.SendAsync(request, cancellationToken);

    /// <summary>
    /// The one buffered exchange: sends a request and reads the whole (small) answer, bounded by
    /// <paramref name="timeout"/> (named <paramref name="timeoutName"/> in the error) when one is given. Every failure
    /// of the backend becomes a value; only the caller's own cancellation throws.
    /// </summary>
    public async Task<BufferedReply> ExchangeAsync(
        Backend backend, HttpMethod method, string pathAndQuery, HttpContent? content, Caller? caller, CancellationToken cancellationToken, TimeSpan? timeout = null, string? timeoutName = null)
    {
        using var lease = backend.Acquire();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } limit)
        {
            deadline.CancelAfter(limit);
        }

        try
        {
            using var request = CreateRequest(backend, method, pathAndQuery, caller);
            request.Content = content;
            using var response = await _invoker.SendAsync(request, deadline.Token);
            var body = await response.Content.ReadAsByteArrayAsync(deadline.Token);
            return new BufferedReply(backend, (int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString(), null);
        }
        catch (OperationCanceledException) when (timeout is { } bound && !cancellationToken.IsCancellationRequested)
        {
            var failure = new UpstreamFailure(FailureKind.AnswerTimeout, $"did not answer {method} {PathOf(pathAndQuery)} within {Durations.Seconds(bound)} s ({timeoutName ?? "the timeout"})");
            return new BufferedReply(backend, StatusCodes.Status504GatewayTimeout, [], null, failure);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return new BufferedReply(backend, StatusCodes.Status502BadGateway, [], null, UpstreamFailure.Of(e));
        }
    }

    /// <summary>Reads the whole (small) body of an answer already received, such as an error; a broken body becomes a failure.</summary>
    public static async Task<BufferedReply> ReadReplyAsync(Backend backend, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return new BufferedReply(backend, (int)response.StatusCode, body, response.Content.Headers.ContentType?.ToString(), null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return new BufferedReply(backend, StatusCodes.Status502BadGateway, [], null, UpstreamFailure.Of(e));
        }
    }

    private static string PathOf(string pathAndQuery) => pathAndQuery.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? pathAndQuery[..q] : pathAndQuery;

    public void Dispose() => _invoker.Dispose();

    /// <summary>
    /// Opens the TCP connection as SocketsHttpHandler would (dual-mode socket, no Nagle), bounded by the
    /// backend's connect timeout, which fails with words that name it.
    /// </summary>
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, TimeSpan defaultTimeout, CancellationToken cancellationToken)
    {
        var timeout = context.InitialRequestMessage.Options.TryGetValue(s_connectTimeout, out var t) ? t : defaultTimeout;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, deadline.Token);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"no connection within the connect timeout of {Durations.Seconds(timeout)} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
