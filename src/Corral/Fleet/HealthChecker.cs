using System.Globalization;
using System.Text.Json;
using Corral.Catalog;
using Corral.Forwarding;
using Corral.Hosting;

namespace Corral.Fleet;

/// <summary>
/// Keeps every enabled backend's <see cref="Backend.Health"/> and <see cref="Backend.Loaded"/> current: one
/// loop per backend probes <c>GET /api/version</c> on the <see cref="HealthSchedule"/> and, when it answers,
/// reads <c>/api/ps</c>. Loops start and stop as the fleet changes (added, removed, enabled, disabled backends).
/// A backend whose circuit is opened by failing requests between two checks wakes its loop, which then retries
/// on the faster schedule for a down backend. What a check finds goes through the fleet's <see cref="HealthUpdater"/>.
/// The jitter of the check intervals comes from the injected <see cref="Random"/>: shared by every backend's loop,
/// it must be thread-safe (<see cref="Random.Shared"/> is).
/// </summary>
internal sealed partial class HealthChecker(
    BackendFleet fleet,
    ListingClient listingClient,
    HealthUpdater health,
    CorralSettings settings,
    TimeProvider time,
    Random random,
    ILogger<HealthChecker> logger) : BackgroundService
{
    /// <summary>How long a model listed by <c>/api/ps</c> without a readable expiry is taken to stay loaded.</summary>
    private static readonly TimeSpan s_unknownExpiry = TimeSpan.FromMinutes(5);

    private readonly Lock _gate = new();
    private readonly Dictionary<Backend, Watch> _watches = [];
    private CancellationToken _stopping;
    private bool _stopped;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lock (_gate)
        {
            _stopping = stoppingToken;
        }

        fleet.Changed += Sync;
        try
        {
            Sync();
            await Task.Delay(Timeout.InfiniteTimeSpan, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            fleet.Changed -= Sync;
            Watch[] watches;
            lock (_gate)
            {
                _stopped = true;
                watches = [.. _watches.Values];
                _watches.Clear();
            }

            foreach (var watch in watches)
            {
                watch.Stop();
            }

            await Task.WhenAll(watches.Select(w => w.Loop));
            foreach (var watch in watches)
            {
                watch.Dispose();
            }
        }
    }

    /// <summary>
    /// Reads an <c>/api/ps</c> answer: each model's key (from <c>model</c>, else <c>name</c>) and its
    /// <c>expires_at</c>; null when the answer has no model list.
    /// </summary>
    internal static List<(string ModelKey, DateTimeOffset Until)>? ReadLoaded(JsonElement root, DateTimeOffset now)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("models"u8, out var models) || models.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var loaded = new List<(string, DateTimeOffset)>();
        foreach (var entry in models.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || NameOf(entry) is not { } name)
            {
                continue;
            }

            // Ollama reports keep_alive -1 as a date centuries away: kept as it is, the model never expires here.
            // A past date is kept too: Ollama's own `ollama ps` shows such a model as "Stopping...".
            var until = entry.TryGetProperty("expires_at"u8, out var expires) && expires.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(expires.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : now + s_unknownExpiry;
            loaded.Add((ModelName.Key(name), until));
        }

        return loaded;
    }

    private static string? NameOf(JsonElement entry) => TextOf(entry, "model"u8) ?? TextOf(entry, "name"u8);

    private static string? TextOf(JsonElement entry, ReadOnlySpan<byte> property) =>
        entry.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    /// <summary>Starts a loop for every enabled backend that has none, and stops those of backends gone or disabled.</summary>
    private void Sync()
    {
        List<Watch> ended = [];
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            var wanted = fleet.All.Where(b => b.Enabled).ToHashSet();
            foreach (var (backend, watch) in _watches)
            {
                if (!wanted.Contains(backend))
                {
                    ended.Add(watch);
                }
            }

            foreach (var watch in ended)
            {
                _watches.Remove(watch.Backend);
            }

            foreach (var backend in wanted)
            {
                if (!_watches.ContainsKey(backend))
                {
                    var watch = new Watch(backend, this, _stopping);
                    _watches[backend] = watch;
                    watch.Start();
                }
            }
        }

        foreach (var watch in ended)
        {
            watch.Stop();
            // The loop disposes nothing itself; let it finish before its token source goes.
            _ = watch.Loop.ContinueWith(static (_, state) => ((Watch)state!).Dispose(), watch, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Checks one backend until it leaves the fleet, is disabled, or Corral stops. Never throws.</summary>
    private async Task RunAsync(Watch watch)
    {
        var backend = watch.Backend;
        var cancellationToken = watch.Token;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await CheckAsync(backend, cancellationToken);
                // Wait for the next check; when failing requests open the circuit meanwhile, start over on the
                // schedule of a down backend (its first retry comes soon after the failures, not an interval later).
                while (await WaitForNextCheckAsync(watch))
                {
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug here must not end the checks of this backend for good: wait an interval and go on.
                LogCheckCrashed(logger, e, backend.Name);
                try
                {
                    await Task.Delay(settings.HealthInterval, time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Waits until the next check is due; true when the circuit opened meanwhile (the wait ended early). The
    /// failed probe that just opened the circuit does not count: only openings after the signal is armed do.
    /// </summary>
    private async Task<bool> WaitForNextCheckAsync(Watch watch)
    {
        var opened = watch.Arm();
        // Read the circuit after arming: an opening in between is either seen here or wakes the wait.
        var delay = NextDelay(watch.Backend);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(watch.Token);
        var due = Task.Delay(delay, time, wait.Token);
        var first = await Task.WhenAny(due, opened);
        await wait.CancelAsync();
        watch.Token.ThrowIfCancellationRequested();
        return first == opened;
    }

    private TimeSpan NextDelay(Backend backend)
    {
        var circuit = backend.Health;
        return HealthSchedule.NextDelay(circuit.IsOpen, circuit.FailuresSinceOpened, settings.HealthInterval, (random.NextDouble() * 2) - 1);
    }

    /// <summary>One health check: the version probe, then (when it answered) the loaded models.</summary>
    private async Task CheckAsync(Backend backend, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var probe = await listingClient.GetAsync(backend, "/api/version", cancellationToken);
        var latency = time.GetElapsedTime(started);
        if (probe.Document is not { } document)
        {
            health.Failed(backend, probe.Error!, probe.Refused);
            return;
        }

        document.Dispose();
        health.ProbeSucceeded(backend, latency);

        var ps = await listingClient.GetAsync(backend, "/api/ps", cancellationToken);
        using (ps.Document)
        {
            if (ps.Document is { } psDocument && ReadLoaded(psDocument.RootElement, time.GetUtcNow()) is { } loaded)
            {
                if (backend.Loaded.Replace(loaded))
                {
                    fleet.NotifyStatusChanged();
                }
            }
            else
            {
                LogPsFailed(logger, backend.Name, ps.Error ?? "answered GET /api/ps without a model list");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read the loaded models of backend {Backend}: {Error}")]
    private static partial void LogPsFailed(ILogger logger, string backend, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The health check of backend {Backend} failed unexpectedly")]
    private static partial void LogCheckCrashed(ILogger logger, Exception exception, string backend);

    /// <summary>The check loop of one backend: its lifetime, and the signal that its circuit opened.</summary>
    private sealed class Watch : IDisposable
    {
        private readonly HealthChecker _owner;
        private readonly CancellationTokenSource _stop;
        private readonly Action _onOpened;
        private TaskCompletionSource _opened = NewSignal();

        public Watch(Backend backend, HealthChecker owner, CancellationToken stopping)
        {
            Backend = backend;
            _owner = owner;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            Token = _stop.Token;
            _onOpened = OnOpened;
        }

        public Backend Backend { get; }

        public CancellationToken Token { get; }

        public Task Loop { get; private set; } = Task.CompletedTask;

        public void Start()
        {
            Backend.Health.Opened += _onOpened;
            // Off the caller's thread: Sync runs inside fleet changes (admin API, configuration reload).
            Loop = Task.Run(() => _owner.RunAsync(this), CancellationToken.None);
        }

        public void Stop()
        {
            Backend.Health.Opened -= _onOpened;
            _stop.Cancel();
        }

        /// <summary>A task that completes when the circuit opens from now on (earlier openings do not count).</summary>
        public Task Arm()
        {
            var opened = NewSignal();
            Volatile.Write(ref _opened, opened);
            return opened.Task;
        }

        public void Dispose() => _stop.Dispose();

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        private void OnOpened() => Volatile.Read(ref _opened).TrySetResult();
    }
}
