using Npgsql;

namespace Corral.Storage;

/// <summary>
/// Listens on <see cref="PostgresStore.ChangesChannel"/> on a connection of its own and raises
/// <see cref="Changed"/> for what other Corrals wrote (its own store's notifications carry its id and are skipped).
/// When the connection drops it connects again with backoff (0.25 s doubling to 10 s) and then raises every topic,
/// since whatever was sent meanwhile is lost. PostgreSQL's keepalive queries (every 15 s) find a connection that died
/// without a word.
/// </summary>
internal sealed partial class PostgresChangeListener : IStoreChanges, IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(10);

    private readonly PostgresStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<PostgresChangeListener> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private volatile bool _connected;
    private volatile int _serverProcessId;
    private int _disposed;

    public PostgresChangeListener(PostgresStore store, TimeProvider time, ILogger<PostgresChangeListener> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
    }

    public event Action<StoreTopic>? Changed;

    public bool IsConnected => _connected;

    /// <summary>The server process of the listening connection (0 while there is none): tests end it to see the listener come back.</summary>
    internal int ServerProcessId => _serverProcessId;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop ??= Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken);
        }
    }

    // The container disposes it once for each service it was resolved as.
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await StopAsync(CancellationToken.None);
            _stopping.Dispose();
        }
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var backoff = s_firstBackoff;
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = _store.CreateDedicatedConnection();
                connection.Notification += OnNotification;
                await connection.OpenAsync(stopping);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresStore.ChangesChannel};", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping);
                }

                _serverProcessId = connection.ProcessID;
                _connected = true;
                if (failures > 0)
                {
                    LogReconnected(_logger, failures);
                }

                failures = 0;
                backoff = s_firstBackoff;
                // Whatever changed before this LISTEN (while disconnected, or between loading and starting) was not heard.
                Raise(StoreTopic.Keys);
                Raise(StoreTopic.Backends);
                Raise(StoreTopic.Presets);
                while (true)
                {
                    await connection.WaitAsync(stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // Whatever broke (the server ended the connection, the network, a refused login), the listener goes on.
                _connected = false;
                _serverProcessId = 0;
                failures++;
                LogDisconnected(_logger, e, failures, backoff.TotalSeconds);
            }

            try
            {
                await Task.Delay(backoff, _time, stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(s_maxBackoff.Ticks, backoff.Ticks * 2));
        }

        _connected = false;
        _serverProcessId = 0;
    }

    // Payload: the topic, optionally a space and the id of the store that wrote (a NOTIFY by hand names no store).
    private void OnNotification(object sender, NpgsqlNotificationEventArgs notification)
    {
        var payload = notification.Payload.AsSpan();
        var space = payload.IndexOf(' ');
        var topicName = space < 0 ? payload : payload[..space];
        if (space >= 0 && payload[(space + 1)..].SequenceEqual(_store.InstanceId))
        {
            return;
        }

        if (topicName.Equals("keys", StringComparison.OrdinalIgnoreCase))
        {
            Raise(StoreTopic.Keys);
        }
        else if (topicName.Equals("backends", StringComparison.OrdinalIgnoreCase))
        {
            Raise(StoreTopic.Backends);
        }
        else if (topicName.Equals("presets", StringComparison.OrdinalIgnoreCase))
        {
            Raise(StoreTopic.Presets);
        }
    }

    private void Raise(StoreTopic topic)
    {
        try
        {
            Changed?.Invoke(topic);
        }
        catch (Exception e)
        {
            // A handler's failure is its own; the listener goes on.
            LogHandlerFailed(_logger, e, topic);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for other Corrals' changes failed ({Failures} times in a row); trying again in {RetrySeconds} s")]
    private static partial void LogDisconnected(ILogger logger, Exception exception, int failures, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for other Corrals' changes again after {Failures} failed attempts")]
    private static partial void LogReconnected(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "A handler of a change to {Topic} failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, StoreTopic topic);
}
