using System.Text.Json;
using Corral.Catalog;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Tests.Fleet;

/// <summary>How the scheduler chooses a backend, queues, and hands out freed slots.</summary>
public sealed class SlotSchedulerTests
{
    private static readonly CorralSettings s_settings = new() { DefaultMaxConcurrency = 1, ColdLoadEstimate = TimeSpan.FromSeconds(5) };

    private static Backend NewBackend(string name, int? maxConcurrency = 1, int priority = 0, CorralSettings? settings = null) =>
        new(new BackendOptions { Name = name, Url = new Uri($"http://{name}:11434"), MaxConcurrency = maxConcurrency, Priority = priority }, settings ?? s_settings);

    private static CatalogModel Model(params Backend[] holders) =>
        new("llama3.2:latest", holders.Select(b => new ModelLocation(b, "llama3.2:latest", null, default(JsonElement))).ToArray(), _ => true);

    private static AdmissionRequest Request(CatalogModel model, string key = "k", string? session = null, params Backend[] excluded) =>
        new(model, key, session, new HashSet<Backend>(excluded));

    private static void Load(Backend backend) =>
        backend.Loaded.MarkLoaded("llama3.2:latest", DateTimeOffset.UtcNow.AddMinutes(5), DateTimeOffset.UtcNow);

    private static async Task<Admission> AdmitAsync(SlotScheduler scheduler, AdmissionRequest request, CancellationToken cancellationToken = default)
    {
        var result = await scheduler.AdmitAsync(request, cancellationToken);
        result.Rejection.Should().BeNull();
        return result.Admission!;
    }

    [Fact]
    public async Task Admit_ModelLoadedOnOneBackend_GoesThereWhileItHasAFreeSlot()
    {
        var (a, b) = (NewBackend("a", maxConcurrency: 2), NewBackend("b", maxConcurrency: 2));
        Load(b);
        var scheduler = new SlotScheduler(s_settings, TimeProvider.System);
        var model = Model(a, b);

        using var first = await AdmitAsync(scheduler, Request(model));
        using var second = await AdmitAsync(scheduler, Request(model));

        first.Backend.Should().Be(b);
        second.Backend.Should().Be(b);
        first.WasLoaded.Should().BeTrue();
    }

    [Fact]
    public async Task Admit_LoadedBackendFull_ColdBackendTakesItWhenWaitingWouldBeLonger()
    {
        // Nothing has finished on b yet, so its requests are assumed long (10 s): a cold load (5 s) is quicker.
        var (a, b) = (NewBackend("a"), NewBackend("b"));
        Load(b);
        var scheduler = new SlotScheduler(s_settings, TimeProvider.System);
        var model = Model(a, b);

        using var onB = await AdmitAsync(scheduler, Request(model));
        using var spilled = await AdmitAsync(scheduler, Request(model));

        onB.Backend.Should().Be(b);
        spilled.Backend.Should().Be(a);
        spilled.WasLoaded.Should().BeFalse();
    }

    [Fact]
    public async Task Admit_LoadedBackendFreesSoon_WaitsForItInsteadOfACold()
    {
        var (a, b) = (NewBackend("a"), NewBackend("b"));
        Load(b);
        var scheduler = new SlotScheduler(s_settings, TimeProvider.System);
        var model = Model(a, b);
        // Teach the scheduler that requests on b are short.
        var quick = await AdmitAsync(scheduler, Request(model));
        quick.Succeeded();
        quick.Dispose();

        var running = await AdmitAsync(scheduler, Request(model));
        var waiting = scheduler.AdmitAsync(Request(model), CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse("b frees in far less than a cold load on a takes");
        scheduler.QueueDepth.Should().Be(1);
        running.Succeeded();
        running.Dispose();

        using var next = (await waiting).Admission!;
        next.Backend.Should().Be(b);
        scheduler.QueueDepth.Should().Be(0);
    }

    [Fact]
    public async Task Admit_EveryBackendDown_RejectsNamingThem()
    {
        var (a, b) = (NewBackend("a"), NewBackend("b"));
        for (var i = 0; i < 3; i++)
        {
            a.Health.RecordFailure(DateTimeOffset.UtcNow, "connection refused");
        }

        b.Draining = true;
        var scheduler = new SlotScheduler(s_settings, TimeProvider.System);

        var result = await scheduler.AdmitAsync(Request(Model(a, b)), CancellationToken.None);

        result.Rejection!.Kind.Should().Be(RejectionKind.NoBackend);
        result.Rejection.Message.Should().Contain("backend 'a' (http://a:11434) is unhealthy: connection refused").And.Contain("backend 'b' (http://b:11434) is draining");
    }

    [Fact]
    public async Task Admit_FailedBackendExcluded_ChoosesAnother()
    {
        var (a, b) = (NewBackend("a"), NewBackend("b"));
        Load(a);
        var scheduler = new SlotScheduler(s_settings, TimeProvider.System);

        using var admission = await AdmitAsync(scheduler, Request(Model(a, b), excluded: a));

        admission.Backend.Should().Be(b);
    }

    [Fact]
    public async Task Admit_LowerTierHasAFreeSlot_LaterTierIsNotUsed()
    {
        var primary = NewBackend("primary", maxConcurrency: 1, priority: 0);
        var backup = NewBackend("backup", maxConcurrency: 1, priority: 1);
        Load(backup);
        var scheduler = new SlotScheduler(s_settings, TimeProvider.System);
        var model = Model(primary, backup);

        using var first = await AdmitAsync(scheduler, Request(model));
        using var second = await AdmitAsync(scheduler, Request(model));

        first.Backend.Should().Be(primary, "the backup tier is used only when the primary tier has no free slot, even with the model loaded");
        second.Backend.Should().Be(backup);
    }

    [Fact]
    public async Task Admit_SameSession_SticksToItsBackend()
    {
        var settings = s_settings with { DefaultMaxConcurrency = 0 };
        var (a, b) = (NewBackend("a", maxConcurrency: null, settings: settings), NewBackend("b", maxConcurrency: null, settings: settings));
        var scheduler = new SlotScheduler(settings, TimeProvider.System);
        var model = Model(a, b);
        using var first = await AdmitAsync(scheduler, Request(model, session: "s1"));
        var other = first.Backend == a ? b : a;
        Load(other); // now the other backend looks better to a request without a session

        using var again = await AdmitAsync(scheduler, Request(model, session: "s1"));
        using var free = await AdmitAsync(scheduler, Request(model));

        again.Backend.Should().Be(first.Backend);
        free.Backend.Should().Be(other);
    }

    [Fact]
    public async Task Admit_QueueFull_RejectsAtOnceWithRetryAfter()
    {
        var a = NewBackend("a");
        var settings = s_settings with { QueueLength = 1 };
        var scheduler = new SlotScheduler(settings, TimeProvider.System);
        var model = Model(a);
        using var running = await AdmitAsync(scheduler, Request(model));
        using var cancel = new CancellationTokenSource();
        var queued = scheduler.AdmitAsync(Request(model), cancel.Token).AsTask();

        var rejected = await scheduler.AdmitAsync(Request(model), CancellationToken.None);

        rejected.Rejection!.Kind.Should().Be(RejectionKind.QueueFull);
        rejected.Rejection.Message.Should().StartWith("server busy, please try again.");
        rejected.Rejection.RetryAfter.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1));
        await cancel.CancelAsync();
        await FluentActions.Awaiting(() => queued).Should().ThrowAsync<OperationCanceledException>();
        scheduler.QueueDepth.Should().Be(0, "a request whose client left leaves the queue");
    }

    [Fact]
    public async Task Admit_WaitLongerThanQueueTimeout_Rejected()
    {
        var a = NewBackend("a");
        var scheduler = new SlotScheduler(s_settings with { QueueTimeout = TimeSpan.FromMilliseconds(50) }, TimeProvider.System);
        var model = Model(a);
        using var running = await AdmitAsync(scheduler, Request(model));

        var result = await scheduler.AdmitAsync(Request(model), CancellationToken.None);

        result.Rejection!.Kind.Should().Be(RejectionKind.QueueTimeout);
        scheduler.QueueDepth.Should().Be(0);
    }

    [Fact]
    public async Task Release_SeveralKeysWaiting_SlotsGoInTurnAcrossKeys()
    {
        var a = NewBackend("a");
        var scheduler = new SlotScheduler(s_settings, TimeProvider.System);
        var model = Model(a);
        var running = await AdmitAsync(scheduler, Request(model, key: "busy"));
        var order = new List<string>();
        string[] keys = ["busy", "busy", "busy", "quiet"];
        var waits = keys.Select(async key =>
        {
            var result = await scheduler.AdmitAsync(Request(model, key: key), CancellationToken.None);
            lock (order)
            {
                order.Add(key);
            }

            result.Admission!.Dispose();
        }).ToArray();

        scheduler.QueueDepth.Should().Be(4);
        running.Dispose();
        await Task.WhenAll(waits);

        order.Should().HaveCount(4);
        order.IndexOf("quiet").Should().BeLessThanOrEqualTo(1, "the quiet key is served after at most one request of the busy key");
    }
}
