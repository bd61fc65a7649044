using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Corral.Access;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Corral.Benchmarks;

/// <summary>
/// The per-request decisions on Corral's hot path, each on its own: authenticating a bearer key, resolving a
/// requested model name against a catalog of 100 backends × 50 models, and choosing among the backends that
/// hold it. Reported per operation = per request.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks : IDisposable
{
    private KeyRing _keys = null!;
    private string _secret = null!;
    private ModelCatalog _catalog = null!;
    private CatalogSnapshot _snapshot = null!;
    private Backend[] _holders = null!;
    private readonly LeastOutstandingPolicy _policy = new();
    private SlotScheduler _scheduler = null!;
    private AdmissionRequest _admission = null!;
    private readonly ConnectionKeyMemory _connection = new();
    private Caller _limited = null!;

    [GlobalCleanup]
    public void Dispose()
    {
        _keys.Dispose();
        GC.SuppressFinalize(this);
    }

    [GlobalSetup]
    public void Setup()
    {
        var settings = new CorralSettings();
        _keys = new KeyRing(new MemoryKeyStore(), settings, TimeProvider.System);
        (_, _secret) = _keys.CreateAsync("bench", KeyRole.User, null, CancellationToken.None).GetAwaiter().GetResult();

        var backends = Enumerable.Range(1, 100).Select(i => new BackendOptions { Name = $"b{i}", Url = new Uri($"http://127.0.0.1:{20000 + i}") }).ToArray();
        var fleet = new BackendFleet(backends);
        var listings = fleet.All.Select(b => new BackendListing(
            b,
            Enumerable.Range(0, 50).Select(m => Entry($"model{m}:latest")).ToArray(),
            Ok: true,
            Error: null,
            LastSuccess: DateTimeOffset.UtcNow,
            CheckedAt: DateTimeOffset.UtcNow)).ToArray();
        _snapshot = CatalogSnapshot.Build(listings, DateTimeOffset.UtcNow);
        _catalog = new ModelCatalog(fleet, null!, settings, TimeProvider.System, NullLogger<ModelCatalog>.Instance, new Presets());
        _holders = fleet.All.Take(3).ToArray();

        // Three holders with four slots each, the model loaded on one of them.
        var slotted = new CorralSettings { DefaultMaxConcurrency = 4 };
        var three = Enumerable.Range(1, 3)
            .Select(i => new Backend(new BackendOptions { Name = $"s{i}", Url = new Uri($"http://127.0.0.1:{21000 + i}") }, slotted))
            .ToArray();
        three[1].Loaded.MarkLoaded("model42:latest", DateTimeOffset.MaxValue, DateTimeOffset.UtcNow);
        var model = new CatalogModel("model42:latest", three.Select(b => new ModelLocation(b, "model42:latest", null, default)).ToArray(), _ => true);
        _scheduler = new SlotScheduler(slotted, TimeProvider.System);
        _admission = new AdmissionRequest(model, "key", null, AdmissionRequest.NoneExcluded);

        // The load benchmark's corral-limited key: three patterns (the match is the last), every limit far away.
        var limits = new KeyLimits(1_000_000_000, 1_000_000_000_000, 1_000_000_000_000, 100_000);
        var state = new KeyState(TimeProvider.System);
        state.Configure(limits);
        _limited = new Caller("key_limited", "limited", KeyRole.User) { Models = ModelAllowList.Of(["qwen*", "mistral*", "llama3*"]), State = state };
    }

    /// <summary>
    /// What a key with an allow-list and every limit adds to a request: the allow-list match, the three rates
    /// counted, and the answer's tokens charged (the fourth limit, maxConcurrency, is a counter under the scheduler's lock).
    /// </summary>
    [Benchmark]
    public bool LimitedKeyChecks()
    {
        var allowed = _limited.Models.Allows("llama3.2:latest");
        var refused = _limited.State!.TryStartAsync();
        if (!refused.IsCompletedSuccessfully || refused.Result is not null)
        {
            throw new InvalidOperationException("the benchmark's key was refused or had to wait");
        }

        _limited.State.Charge(430);
        return allowed;
    }

    /// <summary>SHA-256 of the presented key, lookup, constant-time compare, expiry check.</summary>
    [Benchmark]
    public object? AuthenticateKey() => _keys.Authenticate(_secret);

    /// <summary>The same key again on a kept-alive connection: a constant-time compare with the remembered key.</summary>
    [Benchmark]
    public object? AuthenticateKeyOnKeptAliveConnection() => _keys.Authenticate(_secret, _connection);

    /// <summary>A name as clients write it ("model42", no tag) resolved against 5,000 catalog entries.</summary>
    [Benchmark]
    public object? ResolveModel() => _catalog.Resolve(_snapshot, "model42");

    /// <summary>Least-outstanding choice among three holders of a model.</summary>
    [Benchmark]
    public object PickBackend() => _policy.Pick(_holders);

    /// <summary>The scheduler's choice among three holders (expected waits, tiers, load), taking a slot and returning it.</summary>
    [Benchmark]
    public void AdmitAndRelease()
    {
        // A free slot is granted without waiting: the ValueTask has completed synchronously.
        var admitted = _scheduler.AdmitAsync(_admission, CancellationToken.None);
        if (!admitted.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the benchmark's admission had to wait");
        }

        admitted.Result.Admission!.Dispose();
    }

    private static JsonElement Entry(string name)
    {
        using var document = JsonDocument.Parse($$$"""{"name":"{{{name}}}","model":"{{{name}}}","modified_at":"2025-05-04T17:37:44.706015396-07:00","size":2019393189,"digest":"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72","details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B","quantization_level":"Q4_K_M"}}""");
        return document.RootElement.Clone();
    }

    /// <summary>An in-memory key store: the benchmark measures the lookup, not SQLite.</summary>
    private sealed class MemoryKeyStore : IKeyStore
    {
        private readonly List<StoredKey> _keys = [];

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<IReadOnlyList<StoredKey>> ListKeysAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<StoredKey>>([.. _keys]);

        public Task AddKeyAsync(StoredKey key, CancellationToken cancellationToken)
        {
            _keys.Add(key);
            return Task.CompletedTask;
        }

        public Task<bool> UpdateKeyAsync(StoredKey key, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task<bool> RevokeKeyAsync(string id, DateTimeOffset at, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task RecordKeyUseAsync(IReadOnlyCollection<(string Id, DateTimeOffset At)> uses, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
