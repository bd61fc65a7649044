using Corral.Access;
using Corral.Storage;

namespace Corral.Tests.Access;

/// <summary>Rates shared by several Corrals through leases of one bucket (here an in-memory store with the database's rules).</summary>
public sealed class SharedKeyStateTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly MemoryQuotaStore _store;

    public SharedKeyStateTests() => _store = new MemoryQuotaStore(_time);

    private KeyState Replica(KeyLimits limits)
    {
        var state = new KeyState(_time, "key_1", _store);
        state.Configure(limits);
        return state;
    }

    [Fact]
    public async Task TwoReplicas_RequestsPerMinute_NeverMoreThanTheLimitTogether()
    {
        var limits = KeyLimits.None with { RequestsPerMinute = 100 };
        var (a, b) = (Replica(limits), Replica(limits));
        var admitted = 0;

        for (var i = 0; i < 300; i++)
        {
            if (await (i % 3 == 0 ? a : b).TryStartAsync() is null)
            {
                admitted++;
            }
        }

        admitted.Should().Be(100);
        _store.Leases.Should().BeLessThan(30, "requests are paid from leases of 5, and a key over its limit is refused without asking the database again");
    }

    [Fact]
    public async Task UnspentLease_GoesBackAfterItsLifetime_ForTheOtherReplica()
    {
        var limits = KeyLimits.None with { RequestsPerMinute = 100 };
        var (a, b) = (Replica(limits), Replica(limits));
        (await a.TryStartAsync()).Should().BeNull();
        _store.Level("requestsPerMinute").Should().Be(95, "a leased five");

        _time.Advance(KeyState.LeaseLifetime);
        await a.ReturnLeasesAsync(CancellationToken.None);

        _store.Level("requestsPerMinute").Should().BeApproximately(99 + (2 * 100 / 60.0), 0.01, "four came back, and two seconds refilled what they could");
        (await b.TryStartAsync()).Should().BeNull();
    }

    [Fact]
    public async Task TokensCharged_BeyondTheLease_AreADebtThatTheNextLeasePays()
    {
        var limits = KeyLimits.None with { TokensPerMinute = 1000 };
        var (a, b) = (Replica(limits), Replica(limits));
        (await a.TryStartAsync()).Should().BeNull();

        a.Charge(900);
        _time.Advance(KeyState.LeaseLifetime);
        await a.ReturnLeasesAsync(CancellationToken.None);

        _store.Level("tokensPerMinute").Should().BeApproximately(1000 - 900 + (2 * 1000 / 60.0), 0.01);
        (await b.TryStartAsync()).Should().BeNull("about 130 tokens are left for b");
        b.Charge(200);
        _time.Advance(KeyState.LeaseLifetime);
        await b.ReturnLeasesAsync(CancellationToken.None);
        var refused = await a.TryStartAsync();
        refused.Should().NotBeNull("the two used more than the minute holds");
        refused!.Type.Should().Be("tokens");
    }

    [Fact]
    public async Task DatabaseAway_EachReplicaKeepsTheLimitsAlone_ThenSharesAgain()
    {
        var limits = KeyLimits.None with { RequestsPerMinute = 3 };
        var a = Replica(limits);
        _store.Failing = true;

        var answers = new List<RateRefusal?>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await a.TryStartAsync());
        }

        answers.Take(3).Should().AllSatisfy(r => r.Should().BeNull());
        answers[3].Should().NotBeNull("the local bucket holds the limit while the database is away");
        _store.Failing = false;
        _time.Advance(TimeSpan.FromSeconds(60));
        (await a.TryStartAsync()).Should().BeNull();
        _store.Leases.Should().BeGreaterThan(0, "the database is asked again once it may be back");
    }

    /// <summary>The shared buckets as the database keeps them: refilled to now, given back to, then leased from, atomically.</summary>
    private sealed class MemoryQuotaStore(TimeProvider time) : IQuotaStore
    {
        private readonly Dictionary<string, (double Level, long At)> _buckets = [];

        public bool Failing { get; set; }

        public int Leases { get; private set; }

        public double Level(string rate) => _buckets[rate].Level;

        public Task<QuotaLease> LeaseAsync(QuotaRequest request, CancellationToken cancellationToken)
        {
            if (Failing)
            {
                throw new InvalidOperationException("the database cannot be reached");
            }

            lock (_buckets)
            {
                Leases++;
                var now = time.GetTimestamp();
                var (level, at) = _buckets.GetValueOrDefault(request.Rate, (request.Capacity, now));
                level = Math.Min(request.Capacity, level + (time.GetElapsedTime(at, now).TotalSeconds * request.Capacity / request.Window.TotalSeconds)) + request.GiveBack;
                var taken = Math.Min(request.Wanted, Math.Max(0, Math.Floor(level)));
                _buckets[request.Rate] = (level - taken, now);
                return Task.FromResult(new QuotaLease(taken, level - taken));
            }
        }
    }
}
