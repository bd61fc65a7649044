using Corral.Access;
using Corral.Fleet;
using Corral.Hosting;
using Corral.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Corral.Tests.Hosting;

public sealed class ConfigWatcherTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"corral-watch-{Guid.NewGuid():N}.json");
    private readonly RecordingLogger<ConfigWatcher> _logger = new();

    public void Dispose() => File.Delete(_path);

    private static string Json(params string[] names) =>
        $$"""{ "backends": [ {{string.Join(", ", names.Select(n => $$"""{ "name": "{{n}}", "url": "http://{{n}}:11434", "models": ["llama3.2"], "tags": ["{{n}}"] }"""))}} ] }""";

    private TrustedAddresses? _trusted;

    // The fleet as corral serve starts it: the file's backends after the fixed ones (and its trusted networks after
    // the command line's).
    private (ConfigWatcher Watcher, BackendFleet Fleet) Start(string json, IReadOnlyList<BackendOptions>? fixedBackends = null, IReadOnlyList<TrustedNetwork>? fixedNetworks = null)
    {
        File.WriteAllText(_path, json);
        var problems = new List<string>();
        var file = ConfigFile.Read(_path, problems);
        problems.Should().BeEmpty();
        var settings = new CorralSettings
        {
            ConfigFile = _path,
            FixedBackends = fixedBackends ?? [],
            Backends = [.. fixedBackends ?? [], .. file.Backends],
            FixedTrustedNetworks = fixedNetworks ?? [],
            TrustedNetworks = [.. fixedNetworks ?? [], .. file.TrustedNetworks],
        };
        var fleet = new BackendFleet(settings.Backends, settings);
        _trusted = new TrustedAddresses(settings);
        return (new ConfigWatcher(fleet, new Corral.Catalog.Presets(), _trusted, settings, TimeProvider.System, _logger), fleet);
    }

    [Fact]
    public void Check_TrustedNetworksEdited_AppliedWithTheCommandLinesKept_AFileWithProblemsChangesNothing()
    {
        var cli = TrustedNetwork.Parse("10.0.0.0/8=user", "--trusted-network", [])!;
        var (watcher, _) = Start("""{ "backends": [ { "name": "a", "url": "http://a:11434" } ], "trustedNetworks": [ { "cidr": "192.168.1.0/24", "role": "user" } ] }""", fixedNetworks: [cli]);
        watcher.Check();
        _trusted!.Networks.Select(n => n.Network.ToString()).Should().Equal("10.0.0.0/8", "192.168.1.0/24");

        File.WriteAllText(_path, """{ "backends": [ { "name": "a", "url": "http://a:11434" } ], "trustedNetworks": [ { "cidr": "127.0.0.1/32", "role": "admin" } ], "trustedProxies": ["10.1.2.3"] }""");
        watcher.Check();

        watcher.Problems.Should().BeEmpty();
        _trusted.Networks.Select(n => (n.Network.ToString(), n.Caller.IsAdmin)).Should().Equal(("10.0.0.0/8", false), ("127.0.0.1/32", true));
        _trusted.Proxies.Select(p => p.ToString()).Should().Equal("10.1.2.3/32");

        File.WriteAllText(_path, """{ "backends": [ { "name": "a", "url": "http://a:11434" } ], "trustedNetworks": [ { "cidr": "not-a-network", "role": "user" } ] }""");
        watcher.Check();

        watcher.Problems.Should().NotBeEmpty();
        _trusted.Networks.Select(n => n.Network.ToString()).Should().Equal(["10.0.0.0/8", "127.0.0.1/32"], "a file with problems is not applied");
    }

    private static string[] Names(BackendFleet fleet) => fleet.All.Select(b => b.Name).ToArray();

    [Fact]
    public void Check_FileAsAtStartUp_KeepsEveryBackend()
    {
        var (watcher, fleet) = Start(Json("a", "b"));
        var before = fleet.All.ToArray();

        watcher.Check().Should().NotBeNull().And.Match<FleetChange>(c => c.IsEmpty);
        watcher.Check().Should().BeNull("the file did not change since the last check");

        fleet.All.Should().Equal(before, "unchanged backends keep their health, counters and loaded models");
        _logger.At(LogLevel.Information).Should().BeEmpty();
        _logger.At(LogLevel.Warning).Should().BeEmpty();
    }

    [Fact]
    public void Check_BackendReplacedInFile_FleetFollowsAndTheChangeIsLogged()
    {
        var (watcher, fleet) = Start(Json("a", "b"));
        watcher.Check();
        var a = fleet.Find("a");

        File.WriteAllText(_path, Json("a", "c"));
        var change = watcher.Check();

        change!.Added.Should().Equal("c");
        change.Removed.Should().Equal("b");
        change.Changed.Should().BeEmpty();
        Names(fleet).Should().Equal("a", "c");
        fleet.Find("a").Should().BeSameAs(a);
        _logger.At(LogLevel.Information).Should().ContainSingle().Which.Should().Contain("added c; changed none; removed b");
    }

    [Fact]
    public void Check_InvalidFile_KeepsTheFleetWarnsOnceAndSaysWhenItIsValidAgain()
    {
        var (watcher, fleet) = Start(Json("a", "b"));
        watcher.Check();

        File.WriteAllText(_path, """{ "backends": [ { "name": "a", "url": "http://a:11434" }, """);
        watcher.Check().Should().BeNull();
        File.WriteAllText(_path, """{ "backends": [ { "name": "a", "url": "http://a:11434" }, """);
        watcher.Check().Should().BeNull();

        Names(fleet).Should().Equal("a", "b");
        watcher.Problems.Should().ContainSingle().Which.Should().Contain("not valid JSON");
        _logger.At(LogLevel.Warning).Should().ContainSingle()
            .Which.Should().Contain(_path).And.Contain("not valid JSON").And.Contain("running backends stay as they are");

        File.WriteAllText(_path, Json("a"));
        watcher.Check()!.Removed.Should().Equal("b");

        watcher.Problems.Should().BeEmpty();
        Names(fleet).Should().Equal("a");
        _logger.At(LogLevel.Information).Should().ContainSingle(m => m.Contains("is valid again"));
    }

    [Fact]
    public void Check_FileWithSeveralProblems_ListsThemAllAndChangesNothing()
    {
        var (watcher, fleet) = Start(Json("a"));
        watcher.Check();

        File.WriteAllText(_path, """
            { "backends": [
                { "name": "a", "url": "http://a:11434", "Priority": 1 },
                { "name": "b", "url": "http://b:11434", "idleTimeout": 0 },
                { "name": "c", "url": "http://c:11434" },
                { "name": "c", "url": "http://d:11434" }
            ] }
            """);
        watcher.Check().Should().BeNull();

        Names(fleet).Should().Equal("a");
        watcher.Problems.Should().HaveCount(2);
        watcher.Problems.Should().Contain(p => p.Contains("did you mean 'priority'?"));
        watcher.Problems.Should().Contain(p => p.Contains("idleTimeout must be a number of seconds greater than 0"));
    }

    [Fact]
    public void Check_DuplicateNames_AreReportedAsAtStartUp()
    {
        var (watcher, fleet) = Start(Json("a"));
        watcher.Check();

        File.WriteAllText(_path, """{ "backends": [ { "name": "c", "url": "http://c:11434" }, { "name": "C", "url": "http://d:11434" } ] }""");
        watcher.Check().Should().BeNull();

        Names(fleet).Should().Equal("a");
        watcher.Problems.Should().ContainSingle().Which.Should().Contain("is used 2 times");
    }

    [Fact]
    public void Check_FileGone_KeepsTheFleetUntilItIsBack()
    {
        var (watcher, fleet) = Start(Json("a", "b"));
        watcher.Check();

        File.Delete(_path);
        watcher.Check().Should().BeNull();
        watcher.Check().Should().BeNull();

        Names(fleet).Should().Equal("a", "b");
        _logger.At(LogLevel.Warning).Should().ContainSingle().Which.Should().Contain("the file is gone");

        File.WriteAllText(_path, Json("a", "b"));
        watcher.Check().Should().NotBeNull().And.Match<FleetChange>(c => c.IsEmpty);

        watcher.Problems.Should().BeEmpty();
        Names(fleet).Should().Equal("a", "b");
        _logger.At(LogLevel.Information).Should().ContainSingle(m => m.Contains("is valid again"));
    }

    [Fact]
    public void Check_BackendsFromTheCommandLine_StayBesideTheFilesBackends()
    {
        BackendOptions fromFlag = new() { Name = "gpu0:11434", Url = new Uri("http://gpu0:11434") };
        var (watcher, fleet) = Start(Json("a"), [fromFlag]);
        watcher.Check();

        File.WriteAllText(_path, Json("b"));
        watcher.Check();

        Names(fleet).Should().Equal("gpu0:11434", "b");
    }

    [Fact]
    public void Check_BackendAddedThroughTheAdminApi_IsLeftAlone()
    {
        var (watcher, fleet) = Start(Json("a"));
        fleet.TryAdd(new BackendOptions { Name = "api1", Url = new Uri("http://api1:11434") }, out var api, BackendOrigin.Api).Should().BeTrue();
        watcher.Check();

        File.WriteAllText(_path, Json("b"));
        var change = watcher.Check();

        change!.Removed.Should().Equal("a");
        Names(fleet).Should().Equal("b", "api1");
        fleet.Find("api1").Should().BeSameAs(api);
        api.Draining.Should().BeFalse();
    }

    [Fact]
    public void Check_FileTakingTheNameOfAnAdminApiBackend_IsRefused()
    {
        var (watcher, fleet) = Start(Json("a"));
        fleet.TryAdd(new BackendOptions { Name = "api1", Url = new Uri("http://api1:11434") }, out var api, BackendOrigin.Api);
        watcher.Check();

        File.WriteAllText(_path, Json("a", "api1"));
        watcher.Check().Should().BeNull();

        Names(fleet).Should().Equal("a", "api1");
        fleet.Find("api1").Should().BeSameAs(api);
        watcher.Problems.Should().ContainSingle().Which.Should().Contain("backend name 'api1' is taken by a backend added through the admin API");
    }
}
