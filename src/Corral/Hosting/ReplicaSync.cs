using Corral.Access;
using Corral.Admin;
using Corral.Storage;

namespace Corral.Hosting;

/// <summary>
/// Keeps what this Corral holds in memory in line with a database it shares with other Corrals: when one of them
/// changes keys or backends (<see cref="IStoreChanges"/>, within a second or two), the key ring and the API-added
/// backends are read again; and every 30 s all the same, should a notification be lost. Notifications that arrive
/// while a reload runs are folded into one more reload. Does nothing on the embedded SQLite store.
/// </summary>
internal sealed partial class ReplicaSync(IStoreChanges changes, KeyRing keys, ApiBackends backends, TimeProvider time, ILogger<ReplicaSync> logger) : BackgroundService
{
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(30);

    private TaskCompletionSource _signal = NewSignal();
    private int _keys;
    private int _backends;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (changes is NoStoreChanges)
        {
            return;
        }

        changes.Changed += OnChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var signal = Volatile.Read(ref _signal).Task;
                var signalled = await Task.WhenAny(signal, Task.Delay(s_poll, time, stoppingToken)) == signal;
                stoppingToken.ThrowIfCancellationRequested();
                // A new signal before the flags are read: a notification from now on wakes the next round.
                Interlocked.Exchange(ref _signal, NewSignal());
                var (reloadKeys, reloadBackends) = signalled
                    ? (Interlocked.Exchange(ref _keys, 0) == 1, Interlocked.Exchange(ref _backends, 0) == 1)
                    : (true, true);
                await ReloadAsync(reloadKeys, reloadBackends, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            changes.Changed -= OnChanged;
        }
    }

    private async Task ReloadAsync(bool reloadKeys, bool reloadBackends, CancellationToken cancellationToken)
    {
        try
        {
            if (reloadKeys)
            {
                await keys.ReloadAsync(cancellationToken);
            }

            if (reloadBackends)
            {
                await backends.SyncAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database is away: what was read before stays in force; the listener says so again when it is back.
            LogReloadFailed(logger, e.Message);
        }
    }

    private void OnChanged(StoreTopic topic)
    {
        Volatile.Write(ref topic == StoreTopic.Keys ? ref _keys : ref _backends, 1);
        Volatile.Read(ref _signal).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read keys and backends again from the database: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}
