using Corral.Fleet;

namespace Corral.Tests.Fleet;

public sealed class LeastOutstandingPolicyTests
{
    private static Backend NewBackend(string name, double weight = 1) =>
        new(new BackendOptions { Name = name, Url = new Uri($"http://{name}:11434"), Weight = weight });

    private static List<Backend.Lease> Load(Backend backend, int requests)
    {
        var leases = new List<Backend.Lease>();
        for (var i = 0; i < requests; i++)
        {
            leases.Add(backend.Acquire());
        }

        return leases;
    }

    [Fact]
    public void Pick_SingleCandidate_ReturnsIt()
    {
        var only = NewBackend("only");
        Load(only, 5);

        new LeastOutstandingPolicy().Pick([only]).Should().BeSameAs(only);
    }

    [Fact]
    public void Pick_UnevenLoad_ReturnsBackendWithFewestOutstanding()
    {
        var policy = new LeastOutstandingPolicy();
        var a = NewBackend("a");
        var b = NewBackend("b");
        var c = NewBackend("c");
        Load(a, 3);
        Load(b, 1);
        Load(c, 2);

        // Whatever backend the rotation starts at, the least loaded one wins.
        for (var i = 0; i < 6; i++)
        {
            policy.Pick([a, b, c]).Should().BeSameAs(b);
        }
    }

    [Fact]
    public void Pick_LeaseDisposed_BackendBecomesLeastLoaded()
    {
        var policy = new LeastOutstandingPolicy();
        var a = NewBackend("a");
        var b = NewBackend("b");
        var onA = Load(a, 2);
        Load(b, 1);

        policy.Pick([a, b]).Should().BeSameAs(b);

        onA.ForEach(l => l.Dispose());
        a.Outstanding.Should().Be(0);

        for (var i = 0; i < 4; i++)
        {
            policy.Pick([a, b]).Should().BeSameAs(a);
        }
    }

    [Fact]
    public void Pick_HeavierWeight_TakesProportionallyMoreLoad()
    {
        var policy = new LeastOutstandingPolicy();
        var big = NewBackend("big", weight: 4);
        var small = NewBackend("small", weight: 1);
        Load(big, 3);
        Load(small, 1);

        // 3/4 < 1/1: the big backend still has room relative to its weight.
        for (var i = 0; i < 4; i++)
        {
            policy.Pick([small, big]).Should().BeSameAs(big);
        }
    }

    [Fact]
    public void Pick_SequenceOfRequests_SpreadsInProportionToWeight()
    {
        var policy = new LeastOutstandingPolicy();
        var big = NewBackend("big", weight: 3);
        var small = NewBackend("small", weight: 1);
        var picks = new Dictionary<Backend, int> { [big] = 0, [small] = 0 };

        for (var i = 0; i < 40; i++)
        {
            var picked = policy.Pick([big, small]);
            picked.Acquire();
            picks[picked]++;
        }

        picks[big].Should().Be(30);
        picks[small].Should().Be(10);
    }

    [Fact]
    public void Pick_IdleFleet_RotatesAcrossEveryBackend()
    {
        var policy = new LeastOutstandingPolicy();
        Backend[] fleet = [NewBackend("a"), NewBackend("b"), NewBackend("c")];

        var picked = Enumerable.Range(0, 3).Select(_ => policy.Pick(fleet)).ToArray();

        picked.Should().OnlyHaveUniqueItems();
        picked.Should().BeEquivalentTo(fleet);
    }

    [Fact]
    public void Pick_TieBetweenTwoOfThree_AlternatesBetweenTheTiedOnes()
    {
        var policy = new LeastOutstandingPolicy();
        var busy = NewBackend("busy");
        var x = NewBackend("x");
        var y = NewBackend("y");
        Load(busy, 1);

        var picked = Enumerable.Range(0, 6).Select(_ => policy.Pick([busy, x, y])).ToArray();

        picked.Should().NotContain(busy);
        picked.Count(p => p == x).Should().BeGreaterThan(0);
        picked.Count(p => p == y).Should().BeGreaterThan(0);
    }
}
