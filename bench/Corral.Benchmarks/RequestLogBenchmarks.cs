using System.IO.Pipes;
using BenchmarkDotNet.Attributes;
using Corral.Usage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Benchmarks;

/// <summary>
/// The request log's writer thread, per line: formatting a usage record into the batch's pooled buffer
/// (<see cref="RequestLogLine.Write"/>) and, once the batch is full, writing it to a pipe under a lock, as standard
/// output is written. A thread reads the pipe's other end and throws the bytes away, as a
/// log collector (journald, a container runtime) would.
/// </summary>
[MemoryDiagnoser]
public class RequestLogBenchmarks
{
    private AnonymousPipeServerStream _pipe = null!;
    private AnonymousPipeClientStream _reader = null!;
    private Thread _draining = null!;
    private RequestLogBatch _batch = null!;
    private RequestLogBatch _formatOnly = null!;
    private UsageRecord _record = null!;
    private UsageRecord _withBodies = null!;

    /// <summary>The size at which a batch is written: 4096 (a pipe's atomic PIPE_BUF) or Corral's 64 KB.</summary>
    [Params(4096, RequestLogOutput.MaxBatchBytes)]
    public int BatchBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pipe = new AnonymousPipeServerStream(PipeDirection.Out);
        _reader = new AnonymousPipeClientStream(PipeDirection.In, _pipe.ClientSafePipeHandle);
        _draining = new Thread(() =>
        {
            var buffer = new byte[65536];
            try
            {
                while (_reader.Read(buffer) > 0)
                {
                }
            }
            catch (IOException)
            {
                // The pipe was closed at cleanup.
            }
        })
        { IsBackground = true };
        _draining.Start();
        _batch = new RequestLogBatch(new RequestLogOutput(_pipe, gate: new object()), _ => { }, BatchBytes);
        _formatOnly = new RequestLogBatch(new RequestLogOutput(Stream.Null, gate: null), _ => { }, BatchBytes);
        _record = Record();
        _withBodies = _record with
        {
            RequestBody = """{"model":"llama3.2","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Why is the sky blue? Answer in two sentences."}],"stream":true,"options":{"temperature":0.7}}""",
            ResponseText = "The sky looks blue because air molecules scatter short (blue) wavelengths of sunlight much more than long (red) ones, an effect called Rayleigh scattering.\nAt sunset the light crosses more air, so the blue is scattered away and reds remain.",
        };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _batch.Flush();
        _batch.Dispose();
        _formatOnly.Dispose();
        _pipe.Dispose();
        _draining.Join();
        _reader.Dispose();
    }

    /// <summary>Formatting and batching alone: the batches go to <see cref="Stream.Null"/>.</summary>
    [Benchmark]
    public void FormatOnly() => _formatOnly.Add(_record);

    /// <summary>A typical line (about 380 bytes): key, route, models, backend, tokens, times.</summary>
    [Benchmark(Baseline = true)]
    public void FormatAndWrite() => _batch.Add(_record);

    /// <summary>The same with <c>--log-bodies</c>: a 220-byte prompt and a 240-character answer to escape.</summary>
    [Benchmark]
    public void FormatAndWrite_WithBodies() => _batch.Add(_withBodies);

    internal static UsageRecord Record() => new()
    {
        Time = new DateTimeOffset(2026, 11, 21, 10, 37, 0, 123, TimeSpan.Zero),
        KeyId = "key_Qm4xR2pL9vTa",
        KeyName = "open-webui",
        User = "alice@example.com",
        Route = "/v1/chat/completions",
        Model = "llama3.2",
        ResolvedModel = "llama3.2:latest",
        Backend = "gpu1",
        Status = 200,
        PromptTokens = 26,
        CompletionTokens = 31,
        QueueMs = 0.012,
        TtftMs = 182.417,
        DurationMs = 1253.88,
        OverheadMs = 0.214,
        BytesIn = 231,
        BytesOut = 5871,
        Attempts = 1,
    };
}

/// <summary>
/// What a request pays for the request log: <see cref="RequestLog.Observe"/>, putting the record on the bounded
/// queue. Each iteration starts from a fresh queue that its 8,192 calls do not fill, so this is the enqueue path
/// (including the queue's growth, which a running log's reused segments do not pay), not the drop path.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(8192)]
public class RequestLogObserveBenchmarks
{
    private readonly UsageRecord _record = RequestLogBenchmarks.Record();
    private RequestLog _log = null!;

    [IterationSetup]
    public void NewLog() => _log = new RequestLog(new RequestLogOutput(Stream.Null, gate: null), TimeProvider.System, NullLogger.Instance);

    [Benchmark]
    public void Observe() => _log.Observe(_record);
}
