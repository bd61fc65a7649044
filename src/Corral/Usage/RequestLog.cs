using System.Collections.Concurrent;
using Corral.Hosting;

namespace Corral.Usage;

/// <summary>
/// The request log (<c>--request-log json</c>): one JSON line per finished request (<see cref="RequestLogLine"/>).
/// A request only puts its record on a bounded queue; a thread of the log's own drains the queue every
/// <see cref="DrainInterval"/> and writes its lines in batches (<see cref="RequestLogBatch"/>). When the output
/// cannot keep up and the queue is full, records are dropped and counted (<c>corral_request_log_dropped_total</c>,
/// and a warning at most every <see cref="DropReportInterval"/>); a request never waits for the log. On shutdown,
/// after the server has finished its requests, every queued line is written before the host stops.
/// </summary>
/// <remarks>
/// The writer polls rather than being woken by each request: waking a sleeping thread would add a futex call and
/// a context switch to every request, on a machine whose few cores the clients and backends share. Polling costs
/// 50 wake-ups a second, and batches lines by itself.
/// </remarks>
internal sealed partial class RequestLog : IUsageObserver, IHostedService, IDisposable
{
    /// <summary>Lines the queue holds: at 50,000 requests/s, about a third of a second of output.</summary>
    public const int DefaultCapacity = 16_384;

    public static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(20);
    public static readonly TimeSpan DropReportInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentQueue<UsageRecord> _queue = new();
    // No spinning before each wait: the writer waits a whole drain interval, and spinning first (the default) only
    // takes CPU from the requests.
    private readonly ManualResetEventSlim _stop = new(false, spinCount: 0);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RequestLogOutput _output;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _capacity;
    private Thread? _thread;
    private volatile bool _closed;
    private int _queued;
    private long _dropped;
    private long _reportedDrops;
    private DateTimeOffset _lastDropReport = DateTimeOffset.MinValue;

    public RequestLog(CorralSettings settings, TimeProvider time, ILogger<RequestLog> logger)
        : this(settings.RequestLogStream is { } stream ? new RequestLogOutput(stream, gate: null) : RequestLogOutput.StandardOutput(), time, logger)
    {
    }

    public RequestLog(RequestLogOutput output, TimeProvider time, ILogger logger, int capacity = DefaultCapacity)
    {
        _output = output;
        _time = time;
        _logger = logger;
        _capacity = capacity;
    }

    /// <summary>Lines lost since start: the queue was full, or the output failed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Observe(UsageRecord record)
    {
        if (_closed)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }

        if (Interlocked.Increment(ref _queued) > _capacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }

        _queue.Enqueue(record);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "Corral request log" };
        _thread.Start();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Writes what is queued, then stops. The host stops the server (and so every request) before its other
    /// services, so nothing is queued after this. It waits past the host's own deadline: these are the lines of
    /// the last requests, and writing them takes milliseconds unless the output is stuck.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Set();
        if (_thread is null)
        {
            return;
        }

        try
        {
            await _stopped.Task.WaitAsync(s_stopTimeout, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            LogStopTimedOut(_logger, Volatile.Read(ref _queued));
        }
    }

    public void Dispose()
    {
        // A writer thread still stuck on its output keeps waiting on the event: leave it to the process's end.
        if (_thread is null || _stopped.Task.IsCompleted)
        {
            _stop.Dispose();
        }
    }

    private void Run()
    {
        using var batch = new RequestLogBatch(_output, Flushed);
        try
        {
            var stopping = false;
            while (!stopping)
            {
                stopping = _stop.Wait(DrainInterval);
                if (stopping)
                {
                    _closed = true;
                }

                while (_queue.TryDequeue(out var record))
                {
                    Interlocked.Decrement(ref _queued);
                    batch.Add(record);
                }

                batch.Flush();
            }
        }
        finally
        {
            _stopped.TrySetResult();
        }
    }

    // After every write rather than once per drain: under a load the output cannot follow, one drain never ends.
    private void Flushed(int lostLines)
    {
        if (lostLines > 0)
        {
            Interlocked.Add(ref _dropped, lostLines);
        }

        ReportDrops();
    }

    private void ReportDrops()
    {
        var dropped = Dropped;
        if (dropped == _reportedDrops)
        {
            return;
        }

        var now = _time.GetUtcNow();
        if (now - _lastDropReport < DropReportInterval)
        {
            return;
        }

        LogDropped(_logger, dropped - _reportedDrops, dropped);
        _reportedDrops = dropped;
        _lastDropReport = now;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The request log dropped {Lines} lines since its last report ({Total} since start): its output is too slow or closed")]
    private static partial void LogDropped(ILogger logger, long lines, long total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The request log's output did not take its last {Lines} lines in time at shutdown")]
    private static partial void LogStopTimedOut(ILogger logger, int lines);
}
