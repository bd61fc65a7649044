using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Corral.Tests.Infrastructure;
using Corral.Usage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Tests.Usage;

public sealed class RequestLogTests
{
    [Fact]
    public async Task Stop_WritesEveryLineStillQueued()
    {
        var output = new WriteRecorder();
        var log = new RequestLog(new RequestLogOutput(output, gate: null), TimeProvider.System, NullLogger.Instance);
        await log.StartAsync(CancellationToken.None);

        for (var i = 0; i < 5000; i++)
        {
            log.Observe(RequestMetricsTests.Record() with { Status = i });
        }

        await log.StopAsync(CancellationToken.None);

        var lines = output.Lines();
        lines.Should().HaveCount(5000);
        lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("status").GetInt32()).Should().Equal(Enumerable.Range(0, 5000), "in the order the requests ended");
        log.Dropped.Should().Be(0);
    }

    [Fact]
    public async Task Observe_QueueFull_DropsAndCounts_NeverWaits()
    {
        var output = new WriteRecorder();
        var log = new RequestLog(new RequestLogOutput(output, gate: null), TimeProvider.System, NullLogger.Instance, capacity: 3);

        for (var i = 0; i < 5; i++)
        {
            log.Observe(RequestMetricsTests.Record());
        }

        log.Dropped.Should().Be(2);
        await log.StartAsync(CancellationToken.None);
        await log.StopAsync(CancellationToken.None);
        output.Lines().Should().HaveCount(3);
    }

    [Fact]
    public async Task Batches_AreWholeLines_WrittenOnceTheyReachTheBatchSize()
    {
        var output = new WriteRecorder();
        var log = new RequestLog(new RequestLogOutput(output, gate: null), TimeProvider.System, NullLogger.Instance);

        for (var i = 0; i < 300; i++)
        {
            // Lines of 0.5 to 2 KB, and one longer than a whole batch.
            log.Observe(RequestMetricsTests.Record() with { Error = i == 150 ? new string('x', RequestLogOutput.MaxBatchBytes + 10_000) : new string('e', 200 + (i * 6)) });
        }

        await log.StartAsync(CancellationToken.None);
        await log.StopAsync(CancellationToken.None);

        output.Writes.Should().HaveCountGreaterThan(3, "the lines hold several batches' worth");
        foreach (var write in output.Writes)
        {
            write[^1].Should().Be((byte)'\n', "a write ends with a whole line");
            var lastLineStart = write.AsSpan(0, write.Length - 1).LastIndexOf((byte)'\n') + 1;
            lastLineStart.Should().BeLessThan(RequestLogOutput.MaxBatchBytes, "a batch is written as soon as it reaches the batch size, so only its last line goes past it");
        }

        output.Lines().Should().HaveCount(300);
    }

    [Fact]
    public async Task OutputFails_ItsLinesAreCountedAsDropped_AndReportedOncePerInterval()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 12, 0, 0, 123, TimeSpan.Zero));
        var logger = new RecordingLogger<RequestLog>();
        var log = new RequestLog(new RequestLogOutput(new BrokenStream(), gate: null), time, logger);
        log.Observe(RequestMetricsTests.Record());
        log.Observe(RequestMetricsTests.Record());
        await log.StartAsync(CancellationToken.None);

        await WaitUntilAsync(() => log.Dropped == 2);
        await WaitUntilAsync(() => logger.At(LogLevel.Warning).Any());
        log.Observe(RequestMetricsTests.Record());
        await WaitUntilAsync(() => log.Dropped == 3);
        time.Advance(RequestLog.DropReportInterval);
        log.Observe(RequestMetricsTests.Record());
        await WaitUntilAsync(() => log.Dropped == 4);
        await WaitUntilAsync(() => logger.At(LogLevel.Warning).Count() == 2);
        await log.StopAsync(CancellationToken.None);

        logger.At(LogLevel.Warning).Should().Equal(
            "The request log dropped 2 lines since its last report (2 since start): its output is too slow or closed",
            "The request log dropped 2 lines since its last report (4 since start): its output is too slow or closed");
    }

    [Fact]
    public async Task Output_SharesTheLockOfASynchronisedConsoleWriter_NoLineIsCutByTheOther()
    {
        // Console.Out is a TextWriter.Synchronized writer over a StreamWriter with a 256-character buffer that
        // flushes every write: a longer line reaches the stream in several writes. Both writers go on for a while
        // at the same time (without the shared lock, batches land inside the console's lines within milliseconds).
        var stream = new WriteRecorder();
        var console = TextWriter.Synchronized(new StreamWriter(stream, new UTF8Encoding(false), bufferSize: 256) { AutoFlush = true });
        var output = new RequestLogOutput(stream, console);
        var logLine = new string('L', 1000) + "\n";
        var batch = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"request\":1}\n", 20)));
        var duration = TimeSpan.FromMilliseconds(200);

        using var start = new Barrier(2);
        var logger = Task.Factory.StartNew(() => Repeat(start, duration, () => console.Write(logLine)), TaskCreationOptions.LongRunning);
        var requestLog = Task.Factory.StartNew(() => Repeat(start, duration, () => output.Write(batch)), TaskCreationOptions.LongRunning);
        var (logLines, batches) = (await logger, await requestLog);

        stream.Writes.Count.Should().BeGreaterThan(logLines + batches, "the console writer split its lines");
        var lines = stream.Lines();
        lines.Should().HaveCount(logLines + (batches * 20));
        var whole = logLine.TrimEnd('\n');
        lines.Should().OnlyContain(l => l == whole || l == "{\"request\":1}");
    }

    private static int Repeat(Barrier start, TimeSpan duration, Action write)
    {
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        var count = 0;
        while (clock.Elapsed < duration)
        {
            write();
            count++;
        }

        return count;
    }

    private static Task<TimeSpan> WaitUntilAsync(Func<bool> condition) => Eventually.WaitUntilAsync(condition, "the condition holds");

    /// <summary>A stream that keeps each write separately, thread-safe.</summary>
    private sealed class WriteRecorder : WriteOnlyStream
    {
        private readonly List<byte[]> _writes = [];

        public IReadOnlyList<byte[]> Writes
        {
            get
            {
                lock (_writes)
                {
                    return [.. _writes];
                }
            }
        }

        public string[] Lines() => Encoding.UTF8.GetString(Writes.SelectMany(w => w).ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (_writes)
            {
                _writes.Add(buffer.ToArray());
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    }

    private sealed class BrokenStream : WriteOnlyStream
    {
        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("Broken pipe");
    }
}
