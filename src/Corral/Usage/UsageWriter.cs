using System.Collections.Concurrent;
using Corral.Hosting;
using Corral.Storage;

namespace Corral.Usage;

/// <summary>
/// Takes every usage record off the request path and into the store. <see cref="Observe"/> only queues (a bounded
/// buffer of <see cref="DefaultCapacity"/> records; beyond it records are dropped, counted in <see cref="Dropped"/>
/// and said in the log). A background loop writes what is queued every <see cref="FlushInterval"/>, in batches of
/// one transaction each, retries a failed batch with backoff (the buffer bounds the memory meanwhile), and prunes
/// what is older than the retention, a little at a time between batches. On a graceful stop it writes every record
/// still queued: the host stops it after the web server has drained its requests, and it writes once more when
/// disposed, for a record produced later still.
/// </summary>
internal sealed partial class UsageWriter : IUsageObserver, IUsageBuffer, IHostedService, IAsyncDisposable
{
    /// <summary>Records the buffer holds at most (queued and in the batch being written): a second of 100,000 requests/s.</summary>
    public const int DefaultCapacity = 100_000;

    /// <summary>Records written in one transaction at most.</summary>
    public const int MaxBatch = 10_000;

    /// <summary>Records pruned in one delete: a few milliseconds of the write lock.</summary>
    public const int PruneChunk = 5_000;

    /// <summary>How long hourly rollups are kept (while records are kept less long; never less than the records).</summary>
    public static readonly TimeSpan RollupRetention = TimeSpan.FromDays(400);

    /// <summary>The longest a record waits in the buffer before the loop writes it.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    private const long NoTimestamp = long.MinValue;

    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_dropReportInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_pruneInterval = TimeSpan.FromHours(1);
    private static readonly TimeSpan s_pruneTimePerTick = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_finalFlushTime = TimeSpan.FromSeconds(10);

    private readonly IUsageStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<UsageWriter> _logger;
    private readonly TimeSpan _retention;
    private readonly int _capacity;
    private readonly ConcurrentQueue<QueuedRecord> _queue = new();

    // Serialises writing: the loop, an explicit flush and the final flushes.
    private readonly Lock _writing = new();
    private readonly List<UsageRecord> _batch = [];
    private readonly CancellationTokenSource _stopping = new();

    private IUsageWriteSession? _session;
    private Task? _loop;

    // Records observed and not yet written (queued or in _batch); bounded by _capacity.
    private int _count;
    private long _dropped;
    private long _written;

    // When the oldest record of _batch was observed (UTC ticks), or NoTimestamp.
    private long _oldestInBatch = NoTimestamp;

    // Loop state (only the loop reads and writes these).
    private TimeSpan _backoff;
    private DateTimeOffset _retryAt;
    private int _failures;
    private long _droppedReported;
    private DateTimeOffset _dropReportedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _nextPrune;

    // Set once the session is closed: later records are counted as dropped.
    private volatile bool _disposed;

    public UsageWriter(IUsageStore store, CorralSettings settings, TimeProvider time, ILogger<UsageWriter> logger)
        : this(store, settings, time, logger, DefaultCapacity)
    {
    }

    public UsageWriter(IUsageStore store, CorralSettings settings, TimeProvider time, ILogger<UsageWriter> logger, int capacity)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _retention = settings.UsageRetention;
        _capacity = capacity;
        _nextPrune = time.GetUtcNow();
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Records written to the store since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Records observed and not yet written.</summary>
    public int Pending => Volatile.Read(ref _count);

    public TimeSpan WriteLag
    {
        get
        {
            var oldest = Volatile.Read(ref _oldestInBatch);
            if (oldest == NoTimestamp && _queue.TryPeek(out var head))
            {
                oldest = head.Observed;
            }

            return oldest == NoTimestamp ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, _time.GetUtcNow().UtcTicks - oldest));
        }
    }

    /// <summary>Queues the record; never blocks. A full buffer drops it and counts it.</summary>
    public void Observe(UsageRecord record)
    {
        if (Interlocked.Increment(ref _count) > _capacity || _disposed)
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _dropped);
            return;
        }

        // When the request ended, from the record itself: no clock read on the request's path.
        _queue.Enqueue(new QueuedRecord(record, record.Time.UtcTicks + (long)(record.DurationMs * TimeSpan.TicksPerMillisecond)));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops the loop and writes every record still buffered. The host calls it after the web server stopped, so
    /// the requests it drained are in; a store that keeps failing is retried for up to 10 seconds.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        await Task.Run(() => FlushBeforeExit(cancellationToken), CancellationToken.None);
    }

    /// <summary>Writes what a request that ended after <see cref="StopAsync"/> left behind, then closes the store session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }

        await Task.Run(() => FlushBeforeExit(CancellationToken.None), CancellationToken.None);
        lock (_writing)
        {
            _disposed = true;
            _session?.Dispose();
            _session = null;
        }

        _stopping.Dispose();
    }

    /// <summary>Writes every record queued so far; false when the store failed (the records stay queued).</summary>
    public bool Flush()
    {
        lock (_writing)
        {
            // Bounded by what is there now, so that a steady stream of records cannot keep a flush going for ever.
            var budget = Volatile.Read(ref _count);
            while (budget > 0)
            {
                if (_batch.Count == 0)
                {
                    Take();
                }

                if (_batch.Count == 0)
                {
                    return true;
                }

                _session ??= _store.OpenUsageWriter();
                _session.Write(_batch);
                var written = _batch.Count;
                _batch.Clear();
                Volatile.Write(ref _oldestInBatch, NoTimestamp);
                Interlocked.Add(ref _written, written);
                Interlocked.Add(ref _count, -written);
                budget -= written;
            }

            return true;
        }
    }

    /// <summary>Prunes records older than the retention and rollups older than theirs, for up to <paramref name="timeLimit"/>; true when nothing is left to prune.</summary>
    public bool Prune(TimeSpan timeLimit)
    {
        if (_retention == TimeSpan.Zero)
        {
            return true;
        }

        var now = _time.GetUtcNow();
        var recordsBefore = now - _retention;
        var rollupsBefore = now - (_retention > RollupRetention ? _retention : RollupRetention);
        var started = _time.GetTimestamp();
        lock (_writing)
        {
            _session ??= _store.OpenUsageWriter();
            while (_time.GetElapsedTime(started) < timeLimit)
            {
                if (_session.DeleteRecordsBefore(recordsBefore, PruneChunk) < PruneChunk
                    && _session.DeleteOldestRollupHourBefore(rollupsBefore) == 0)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                Tick();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: StopAsync writes what is left.
        }
    }

    /// <summary>One turn of the loop: writes (unless waiting out a failure), prunes when due, reports drops.</summary>
    internal void Tick()
    {
        var now = _time.GetUtcNow();
        if (now >= _retryAt)
        {
            try
            {
                Flush();
                if (_failures > 0)
                {
                    LogStoreRecovered(_logger, _failures);
                }

                _failures = 0;
                _backoff = TimeSpan.Zero;
            }
            catch (Exception e)
            {
                _failures++;
                _backoff = _backoff == TimeSpan.Zero ? FlushInterval : TimeSpan.FromTicks(Math.Min(s_maxBackoff.Ticks, _backoff.Ticks * 2));
                _retryAt = now + _backoff;
                ForgetSessionAfterFailure();
                LogWriteFailed(_logger, e, _failures, Pending, _backoff.TotalSeconds);
            }
        }

        if (_failures == 0 && now >= _nextPrune)
        {
            try
            {
                if (Prune(s_pruneTimePerTick))
                {
                    _nextPrune = now + s_pruneInterval;
                }
            }
            catch (Exception e)
            {
                _nextPrune = now + s_pruneInterval;
                ForgetSessionAfterFailure();
                LogPruneFailed(_logger, e);
            }
        }

        ReportDrops(now, force: false);
    }

    private void FlushBeforeExit(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                Flush();
                break;
            }
            catch (Exception e)
            {
                ForgetSessionAfterFailure();
                if (_time.GetElapsedTime(started) >= s_finalFlushTime || cancellationToken.IsCancellationRequested)
                {
                    LogRecordsLost(_logger, e, Pending);
                    break;
                }

                // Blocking is right here: this is the last thing the process does with the store.
                cancellationToken.WaitHandle.WaitOne(delay);
                delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(1).Ticks, delay.Ticks * 2));
            }
        }

        ReportDrops(_time.GetUtcNow(), force: true);
    }

    // Moves up to MaxBatch queued records into _batch.
    private void Take()
    {
        if (_queue.TryPeek(out var head))
        {
            Volatile.Write(ref _oldestInBatch, head.Observed);
        }

        while (_batch.Count < MaxBatch && _queue.TryDequeue(out var queued))
        {
            _batch.Add(queued.Record);
        }
    }

    // A session whose connection failed may be broken; the next write opens a new one.
    private void ForgetSessionAfterFailure()
    {
        lock (_writing)
        {
            try
            {
                _session?.Dispose();
            }
            catch (Exception)
            {
                // Already broken; a new session replaces it.
            }

            _session = null;
        }
    }

    private void ReportDrops(DateTimeOffset now, bool force)
    {
        var dropped = Dropped;
        if (dropped > _droppedReported && (force || now - _dropReportedAt >= s_dropReportInterval))
        {
            LogDropped(_logger, dropped - _droppedReported, dropped, _capacity);
            _droppedReported = dropped;
            _dropReportedAt = now;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing usage records failed ({Failures} times in a row; {Pending} records buffered); retrying in {RetrySeconds} s")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, int failures, int pending, double retrySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Usage records are written again after {Failures} failed attempts")]
    private static partial void LogStoreRecovered(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} usage records dropped ({Total} since start): the buffer of {Capacity} records was full because the store is too slow or failing")]
    private static partial void LogDropped(ILogger logger, long count, long total, int capacity);

    [LoggerMessage(Level = LogLevel.Error, Message = "Pruning old usage records failed; trying again in an hour")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} usage records could not be written before Corral stopped and are lost")]
    private static partial void LogRecordsLost(ILogger logger, Exception exception, int count);

    // Observed: when the request ended, in UTC ticks.
    private readonly record struct QueuedRecord(UsageRecord Record, long Observed);
}
