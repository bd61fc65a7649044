using Corral.Access;
using Corral.Admin;
using Corral.Storage;

namespace Corral.Hosting;

/// <summary>
/// Keeps what this Corral holds in memory in line with a database it shares with other Corrals: when one of them
/// changes keys, backends or presets (<see cref="IStoreChanges"/>, within a second or two), the key ring, the API-added
/// backends and presets are read again; and every 30 s all the same, should a notification be lost. Notifications that arrive
/// while a reload runs are folded into one more reload. Does nothing on the embedded SQLite store.
/// </summary>
internal sealed partial class ReplicaSync(IStoreChanges changes, KeyRing keys, ApiBackends backends, ApiPresets presets, TimeProvider time, ILogger<ReplicaSync> logger) : BackgroundService
{
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(30);

    private TaskCompletionSource _signal = NewSignal();
    private int _keys;
    private int _backends;
    private int _presets;

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
                var (reloadKeys, reloadBackends, reloadPresets) = signalled
                    ? (Interlocked.Exchange(ref _keys, 0) == 1, Interlocked.Exchange(ref _backends, 0) == 1, Interlocked.Exchange(ref _presets, 0) == 1)
                    : (true, true, true);
                await ReloadAsync(reloadKeys, reloadBackends, reloadPresets, stoppingToken);
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

    private async Task ReloadAsync(bool reloadKeys, bool reloadBackends, bool reloadPresets, CancellationToken cancellationToken)
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

            if (reloadPresets)
            {
                await presets.SyncAsync(cancellationToken);
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
        switch (topic)
        {
            case StoreTopic.Keys:
                Volatile.Write(ref _keys, 1);
                break;
            case StoreTopic.Backends:
                Volatile.Write(ref _backends, 1);
                break;
            default:
                Volatile.Write(ref _presets, 1);
                break;
        }

        Volatile.Read(ref _signal).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read keys and backends again from the database: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}
