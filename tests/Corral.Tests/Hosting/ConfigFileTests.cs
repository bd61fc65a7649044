using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Tests.Hosting;

public sealed class ConfigFileTests
{
    private static IReadOnlyList<BackendOptions> Parse(string json, out List<string> problems)
    {
        problems = [];
        return ConfigFile.ParseBackends(json, "corral.json", problems);
    }

    [Fact]
    public void ParseBackends_RoutingFields_AreRead()
    {
        var backends = Parse("""
            { "backends": [ {
                "name": "gpu1", "url": "http://gpu1:11434", "maxConcurrency": 4, "priority": 2,
                "connectTimeout": 1.5, "firstByteTimeout": 900, "idleTimeout": 0.25
            } ] }
            """, out var problems);

        problems.Should().BeEmpty();
        var backend = backends.Should().ContainSingle().Subject;
        backend.MaxConcurrency.Should().Be(4);
        backend.Priority.Should().Be(2);
        backend.ConnectTimeout.Should().Be(TimeSpan.FromMilliseconds(1500));
        backend.FirstByteTimeout.Should().Be(TimeSpan.FromSeconds(900));
        backend.IdleTimeout.Should().Be(TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public void ParseBackends_RoutingFieldsAbsent_FallBackToTheGlobalOptions()
    {
        var backends = Parse("""{ "backends": [ { "url": "http://gpu1:11434" } ] }""", out var problems);

        problems.Should().BeEmpty();
        var backend = backends.Should().ContainSingle().Subject;
        backend.MaxConcurrency.Should().BeNull("an absent maxConcurrency means --max-concurrency, not unlimited");
        backend.Priority.Should().Be(0);
        backend.ConnectTimeout.Should().BeNull();
        backend.FirstByteTimeout.Should().BeNull();
        backend.IdleTimeout.Should().BeNull();
    }

    [Fact]
    public void ParseBackends_MaxConcurrencyZero_IsUnlimitedNotTheDefault()
    {
        var backends = Parse("""{ "backends": [ { "url": "http://gpu1:11434", "maxConcurrency": 0 } ] }""", out var problems);

        problems.Should().BeEmpty();
        backends.Should().ContainSingle().Which.MaxConcurrency.Should().Be(0);
    }

    [Fact]
    public void ParseBackends_NegativePriority_IsPreferredTierAndAccepted()
    {
        var backends = Parse("""{ "backends": [ { "url": "http://gpu1:11434", "priority": -1 } ] }""", out var problems);

        problems.Should().BeEmpty();
        backends.Should().ContainSingle().Which.Priority.Should().Be(-1);
    }

    [Theory]
    [InlineData("\"connectTimeout\": 0", "connectTimeout must be a number of seconds greater than 0")]
    [InlineData("\"firstByteTimeout\": -3", "firstByteTimeout must be a number of seconds greater than 0")]
    [InlineData("\"idleTimeout\": \"5m\"", "\"idleTimeout\" must be a number")]
    [InlineData("\"priority\": 1.5", "priority must be a whole number")]
    [InlineData("\"priority\": \"high\"", "\"priority\" must be a number")]
    [InlineData("\"maxConcurrency\": 2.5", "maxConcurrency must be a whole number, 0 (unlimited) or more")]
    public void ParseBackends_BadRoutingField_IsReportedWithItsLocation(string field, string expected)
    {
        var backends = Parse($$"""{ "backends": [ { "url": "http://gpu1:11434", {{field}} } ] }""", out var problems);

        backends.Should().BeEmpty();
        problems.Should().ContainSingle().Which.Should().StartWith("corral.json: backends[0]: ").And.Contain(expected);
    }

    [Theory]
    [InlineData("ConnectTimeout", "connectTimeout")]
    [InlineData("FIRSTBYTETIMEOUT", "firstByteTimeout")]
    [InlineData("idletimeout", "idleTimeout")]
    [InlineData("Priority", "priority")]
    public void ParseBackends_NewFieldWithWrongCase_SuggestsTheRightSpelling(string given, string meant)
    {
        Parse($$"""{ "backends": [ { "url": "http://gpu1:11434", "{{given}}": 1 } ] }""", out var problems);

        problems.Should().ContainSingle().Which.Should().Contain($"unknown field '{given}'; did you mean '{meant}'?");
    }

    [Fact]
    public void ParseBackends_UnknownField_ListsTheNewFieldsAsKnown()
    {
        Parse("""{ "backends": [ { "url": "http://gpu1:11434", "timeout": 5 } ] }""", out var problems);

        problems.Should().ContainSingle().Which.Should()
            .Contain("unknown field 'timeout'")
            .And.Contain("priority, connectTimeout, firstByteTimeout, idleTimeout");
    }

    [Fact]
    public void ParseBackends_SameTextTwice_GivesEqualOptions()
    {
        const string json = """
            { "backends": [ { "name": "a", "url": "http://a:1", "models": ["llama3.2", "qwen3"], "tags": ["gpu"], "priority": 1, "idleTimeout": 30 } ] }
            """;

        var first = Parse(json, out _).Single();
        var second = Parse(json, out _).Single();

        first.Should().NotBeSameAs(second);
        (first == second).Should().BeTrue("a reload of an unchanged file must leave its backends alone");
        first.GetHashCode().Should().Be(second.GetHashCode());
    }

    [Fact]
    public void TrustedNetworksAndProxies_AreRead_EachProblemNamed()
    {
        var problems = new List<string>();

        var contents = ConfigFile.Parse(
            """{"trustedNetworks":[{"cidr":"10.0.0.0/8","role":"user"},{"cidr":"10.0.0.1/8","role":"user"},{"cidr":"::1/128","role":"root"}],"trustedProxies":["172.16.0.0/12","proxy"]}""",
            "corral.json",
            problems);

        contents.TrustedNetworks.Select(n => n.Network.ToString()).Should().Equal("10.0.0.0/8");
        contents.TrustedNetworks[0].Role.Should().Be(Corral.Access.KeyRole.User);
        contents.TrustedProxies.Select(n => n.ToString()).Should().Equal("172.16.0.0/12");
        problems.Should().HaveCount(3);
        problems.Should().Contain(p => p.Contains("trustedNetworks[1]", StringComparison.Ordinal) && p.Contains("network's first", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("trustedNetworks[2]", StringComparison.Ordinal) && p.Contains("admin or user", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("trustedProxies[1]", StringComparison.Ordinal));
    }

    [Fact]
    public void OnlyTrustedNetworks_NoBackends_IsAFile()
    {
        var problems = new List<string>();

        var contents = ConfigFile.Parse("""{"trustedNetworks":[{"cidr":"127.0.0.1/32","role":"admin"}]}""", "corral.json", problems);

        problems.Should().BeEmpty();
        contents.Backends.Should().BeEmpty();
    }
}
