using Corral.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Tests.Hosting;

public sealed class SettingsResolverTests : IDisposable
{
    private readonly List<string> _tempFiles = [];

    public void Dispose()
    {
        foreach (var file in _tempFiles)
        {
            File.Delete(file);
        }
    }

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables)
    {
        var values = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => values.GetValueOrDefault(name);
    }

    private static Func<string, string?> NoEnvironment => Environment();

    private string ConfigFileWith(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"corral-test-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        _tempFiles.Add(path);
        return path;
    }

    private static IReadOnlyList<string> ProblemsOf(ServeArguments args, Func<string, string?> environment)
    {
        var resolve = () => SettingsResolver.Resolve(args, environment);
        return resolve.Should().Throw<ConfigurationException>().Which.Problems;
    }

    [Fact]
    public void Resolve_Nothing_UsesDefaults()
    {
        var settings = SettingsResolver.Resolve(new ServeArguments(), NoEnvironment);

        settings.Listen.Should().Be("http://127.0.0.1:11480");
        settings.Backends.Should().ContainSingle();
        settings.Backends[0].Url.Should().Be(new Uri("http://127.0.0.1:11434"));
        settings.Backends[0].Name.Should().Be("127.0.0.1:11434");
        settings.AuthEnabled.Should().BeTrue();
        settings.AdminKey.Should().BeNull();
        settings.DataDirectory.Should().Be("./data");
        settings.CatalogTtl.Should().Be(TimeSpan.FromSeconds(10));
        settings.ListingTimeout.Should().Be(TimeSpan.FromSeconds(2));
        settings.ConnectTimeout.Should().Be(TimeSpan.FromSeconds(5));
        settings.MaxBodyBytes.Should().Be(32L * 1024 * 1024);
        settings.LogLevel.Should().Be(LogLevel.Information);
        settings.ConfigFile.Should().BeNull();
    }

    [Fact]
    public void Resolve_BackendWithoutScheme_SuggestsHttpUrl()
    {
        var problems = ProblemsOf(new ServeArguments { Backends = ["192.168.1.10:11434"] }, NoEnvironment);

        problems.Should().ContainSingle(p => p.Contains("did you mean http://192.168.1.10:11434?"))
            .Which.Should().StartWith("--backend");
    }

    [Fact]
    public void Resolve_OllamaBaseUrls_SplitsOnSemicolon()
    {
        var environment = Environment(("OLLAMA_BASE_URLS", "http://gpu1:11434; http://gpu2:11434/ ;;http://gpu3:8080"));

        var settings = SettingsResolver.Resolve(new ServeArguments(), environment);

        settings.Backends.Select(b => b.Name).Should().Equal("gpu1:11434", "gpu2:11434", "gpu3:8080");
        settings.Backends.Select(b => b.Url).Should().Equal(
            new Uri("http://gpu1:11434"), new Uri("http://gpu2:11434"), new Uri("http://gpu3:8080"));
    }

    [Fact]
    public void Resolve_OllamaBaseUrl_IsTheOnlyBackend()
    {
        var settings = SettingsResolver.Resolve(new ServeArguments(), Environment(("OLLAMA_BASE_URL", "http://10.0.0.7:11434")));

        settings.Backends.Should().ContainSingle().Which.Url.Should().Be(new Uri("http://10.0.0.7:11434"));
    }

    [Fact]
    public void Resolve_OllamaBaseUrlsAndOllamaBaseUrl_PrefersTheList()
    {
        var environment = Environment(("OLLAMA_BASE_URLS", "http://a:1;http://b:2"), ("OLLAMA_BASE_URL", "http://c:3"));

        var settings = SettingsResolver.Resolve(new ServeArguments(), environment);

        settings.Backends.Select(b => b.Name).Should().Equal("a:1", "b:2");
    }

    [Fact]
    public void Resolve_BackendOption_OverridesEnvironment()
    {
        var environment = Environment(("OLLAMA_BASE_URLS", "http://a:1;http://b:2"), ("CORRAL_LISTEN", "http://0.0.0.0:9000"));

        var settings = SettingsResolver.Resolve(new ServeArguments { Backends = ["http://c:3"], Listen = "http://127.0.0.1:7000" }, environment);

        settings.Backends.Should().ContainSingle().Which.Name.Should().Be("c:3");
        settings.Listen.Should().Be("http://127.0.0.1:7000");
    }

    [Fact]
    public void Resolve_EnvironmentSettings_AreUsed()
    {
        var environment = Environment(
            ("CORRAL_LISTEN", "http://0.0.0.0:9000"),
            ("CORRAL_DATA", "/var/lib/corral"),
            ("CORRAL_ADMIN_KEY", "0123456789abcdef"),
            ("CORRAL_AUTH", "OFF"),
            ("CORRAL_LOG_LEVEL", "warning"));

        var settings = SettingsResolver.Resolve(new ServeArguments(), environment);

        settings.Listen.Should().Be("http://0.0.0.0:9000");
        settings.DataDirectory.Should().Be("/var/lib/corral");
        settings.AdminKey.Should().Be("0123456789abcdef");
        settings.AuthEnabled.Should().BeFalse();
        settings.LogLevel.Should().Be(LogLevel.Warning);
    }

    [Fact]
    public void Resolve_BadOllamaBaseUrl_NamesThatVariable()
    {
        var problems = ProblemsOf(new ServeArguments(), Environment(("OLLAMA_BASE_URL", "gpu1:11434")));

        problems.Should().ContainSingle(p => p.Contains("did you mean http://gpu1:11434?"))
            .Which.Should().StartWith("OLLAMA_BASE_URL:");
    }

    [Fact]
    public void Resolve_BadEntryInOllamaBaseUrls_NamesThatVariable()
    {
        var problems = ProblemsOf(new ServeArguments(), Environment(("OLLAMA_BASE_URLS", "http://a:1;b:2")));

        problems.Should().ContainSingle(p => p.Contains("did you mean http://b:2?"))
            .Which.Should().StartWith("OLLAMA_BASE_URLS:");
    }

    [Theory]
    [InlineData("http://gpu1:11434/", "http://gpu1:11434")]
    [InlineData("http://gpu1:11434", "http://gpu1:11434/")]
    [InlineData("http://proxy/ollama/", "http://proxy/ollama")]
    public void Resolve_SameUrlWithAndWithoutTrailingSlash_IsReportedAsDuplicate(string a, string b)
    {
        var problems = ProblemsOf(new ServeArguments { Backends = [a, b] }, NoEnvironment);

        problems.Should().Contain(p => p.Contains("is listed 2 times"));
    }

    [Fact]
    public void Resolve_BackendWithPathAndTrailingSlash_IsStoredWithoutIt()
    {
        var settings = SettingsResolver.Resolve(new ServeArguments { Backends = ["http://proxy.example/ollama/"] }, NoEnvironment);

        settings.Backends[0].Url.AbsoluteUri.Should().Be("http://proxy.example/ollama");
    }

    [Fact]
    public void Resolve_Ipv6BackendUrl_IsAccepted()
    {
        var settings = SettingsResolver.Resolve(new ServeArguments { Backends = ["http://[::1]:11434"] }, NoEnvironment);

        settings.Backends.Should().ContainSingle().Which.Url.Port.Should().Be(11434);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("0123456789abcde")]
    public void Resolve_AdminKeyShorterThan16_IsRejected(string key)
    {
        var problems = ProblemsOf(new ServeArguments { AdminKey = key }, NoEnvironment);

        problems.Should().ContainSingle(p => p.Contains("at least 16 characters") && p.Contains($"it has {key.Length}"));
    }

    [Fact]
    public void Resolve_AdminKeyOf16_IsAccepted()
    {
        var settings = SettingsResolver.Resolve(new ServeArguments { AdminKey = "0123456789abcdef" }, NoEnvironment);

        settings.AdminKey.Should().Be("0123456789abcdef");
    }

    [Fact]
    public void Resolve_AuthMaybe_IsRejectedNamingTheValue()
    {
        var problems = ProblemsOf(new ServeArguments { Auth = "maybe" }, NoEnvironment);

        problems.Should().ContainSingle(p => p.StartsWith("--auth", StringComparison.Ordinal))
            .Which.Should().Contain("'maybe'").And.Contain("'on' or 'off'");
    }

    [Fact]
    public void Resolve_CorralAuthMaybe_IsRejectedNamingTheValue()
    {
        var problems = ProblemsOf(new ServeArguments(), Environment(("CORRAL_AUTH", "maybe")));

        problems.Should().ContainSingle(p => p.Contains("'on' or 'off'"))
            .Which.Should().Contain("'maybe'");
    }

    [Theory]
    [InlineData("off", false)]
    [InlineData("OFF", false)]
    [InlineData("on", true)]
    [InlineData("On", true)]
    public void Resolve_AuthOption_SwitchesAuthentication(string value, bool enabled)
    {
        SettingsResolver.Resolve(new ServeArguments { Auth = value }, NoEnvironment).AuthEnabled.Should().Be(enabled);
    }

    [Fact]
    public void Resolve_SeveralBadOptions_ReportsEveryProblemAtOnce()
    {
        var args = new ServeArguments
        {
            Listen = "tcp://0.0.0.0:1",
            Backends = ["10.0.0.1:11434"],
            AdminKey = "tiny",
            Auth = "maybe",
            LogLevel = "loud",
            CatalogTtlSeconds = "-1",
            MaxBodyMegabytes = "0",
        };

        var problems = ProblemsOf(args, NoEnvironment);

        problems.Should().Contain(p => p.StartsWith("--listen", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--backend", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--admin-key", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--auth", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--log-level", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--catalog-ttl", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--max-body-size", StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_ConfigFileWithSeveralProblems_ReportsThemAll()
    {
        var path = ConfigFileWith("""
            {
              // comments and trailing commas are allowed
              "backends": [
                { "url": "http://a:11434", "Weight": 2 },
                { "url": "10.0.0.5:11434" },
                { "name": "dup", "url": "http://b:11434" },
                { "name": "dup", "url": "http://c:11434" },
                { "name": "d", "url": "http://d:11434", "prefix": "gpu.1" },
                { "name": "e", "url": "http://e:11434", "maxConcurrency": -1 },
                { "name": "f", "url": "http://f:11434", "weight": 0 },
              ],
              "listen": "http://0.0.0.0:1",
            }
            """);

        var problems = ProblemsOf(new ServeArguments { ConfigFile = path }, NoEnvironment);

        problems.Should().Contain(p => p.Contains("backends[0]") && p.Contains("unknown field 'Weight'") && p.Contains("did you mean 'weight'?"));
        problems.Should().Contain(p => p.Contains("backends[1]") && p.Contains("did you mean http://10.0.0.5:11434?"));
        problems.Should().Contain(p => p.Contains("backend name 'dup' is used 2 times"));
        problems.Should().Contain(p => p.Contains("prefix 'gpu.1'"));
        problems.Should().Contain(p => p.Contains("backends[5]") && p.Contains("maxConcurrency"));
        problems.Should().Contain(p => p.Contains("backends[6]") && p.Contains("weight must be greater than 0"));
        problems.Should().Contain(p => p.Contains("unknown field 'listen'"));
        problems.Should().HaveCount(7);
        problems.Should().OnlyContain(p => !p.Contains("no backend is configured"));
    }

    [Fact]
    public void Resolve_ConfigFileUnknownFieldWithoutCaseMatch_ListsKnownFields()
    {
        var path = ConfigFileWith("""{ "backends": [ { "url": "http://a:1", "adress": "x" } ] }""");

        var problems = ProblemsOf(new ServeArguments { ConfigFile = path }, NoEnvironment);

        problems.Should().ContainSingle(p => p.Contains("unknown field 'adress'"))
            .Which.Should().Contain("backends[0]").And.Contain("known: name, url");
    }

    [Fact]
    public void Resolve_ConfigFileBackendWithoutUrl_SaysUrlIsRequired()
    {
        var path = ConfigFileWith("""{ "backends": [ { "name": "a" } ] }""");

        var problems = ProblemsOf(new ServeArguments { ConfigFile = path }, NoEnvironment);

        problems.Should().Contain(p => p.Contains("backends[0]") && p.Contains("\"url\" is required"));
    }

    [Fact]
    public void Resolve_ConfigFileBackendWithNullUrl_IsReportedNotSkipped()
    {
        var path = ConfigFileWith("""{ "backends": [ { "name": "a", "url": "http://a:1" }, { "name": "b", "url": null } ] }""");

        var problems = ProblemsOf(new ServeArguments { ConfigFile = path }, NoEnvironment);

        problems.Should().Contain(p => p.Contains("backends[1]") && p.Contains("url"));
    }

    [Fact]
    public void Resolve_ConfigFileNotJson_ReportsLine()
    {
        var path = ConfigFileWith("{\n \"backends\": [ nope ]\n}");

        var problems = ProblemsOf(new ServeArguments { ConfigFile = path }, NoEnvironment);

        problems.Should().Contain(p => p.Contains(path) && p.Contains("not valid JSON (line 2)"));
    }

    [Fact]
    public void Resolve_ConfigFileMissing_ReportsPath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"corral-missing-{Guid.NewGuid():N}.json");

        var problems = ProblemsOf(new ServeArguments { ConfigFile = path }, NoEnvironment);

        problems.Should().Contain(p => p.Contains(path) && p.Contains("cannot be read"));
    }

    [Fact]
    public void Resolve_ConfigFile_ReadsEveryBackendField()
    {
        var path = ConfigFileWith("""
            { "backends": [ {
                "name": "gpu1", "url": "http://gpu1:11434/", "enabled": false, "key": "secret-token",
                "prefix": "fast", "models": ["llama3.2"], "tags": ["a100"], "weight": 2.5, "maxConcurrency": 4
            } ] }
            """);

        var settings = SettingsResolver.Resolve(new ServeArguments { ConfigFile = path }, NoEnvironment);

        var backend = settings.Backends.Should().ContainSingle().Subject;
        backend.Name.Should().Be("gpu1");
        backend.Url.Should().Be(new Uri("http://gpu1:11434"));
        backend.Enabled.Should().BeFalse();
        backend.Key.Should().Be("secret-token");
        backend.Prefix.Should().Be("fast");
        backend.Models.Should().Equal("llama3.2");
        backend.Tags.Should().Equal("a100");
        backend.Weight.Should().Be(2.5);
        backend.MaxConcurrency.Should().Be(4);
        settings.ConfigFile.Should().Be(Path.GetFullPath(path));
    }

    [Fact]
    public void Resolve_ConfigFileWithoutBackendOption_ReplacesDefaultBackend()
    {
        var path = ConfigFileWith("""{ "backends": [ { "url": "http://gpu1:11434" } ] }""");

        var settings = SettingsResolver.Resolve(new ServeArguments { ConfigFile = path }, NoEnvironment);

        settings.Backends.Select(b => b.Name).Should().Equal("gpu1:11434");
    }

    [Fact]
    public void Resolve_ConfigFileWithBackendOption_AddsToIt()
    {
        var path = ConfigFileWith("""{ "backends": [ { "url": "http://gpu1:11434" } ] }""");

        var settings = SettingsResolver.Resolve(new ServeArguments { ConfigFile = path, Backends = ["http://gpu0:11434"] }, NoEnvironment);

        settings.Backends.Select(b => b.Name).Should().Equal("gpu0:11434", "gpu1:11434");
    }

    [Theory]
    [InlineData("--catalog-ttl", "10s", "--catalog-ttl: '10s' is not a number of seconds (like 10 or 0.5)")]
    [InlineData("--listing-timeout", "0", "--listing-timeout: must be more than 0 seconds, not 0")]
    [InlineData("--connect-timeout", "abc", "--connect-timeout: 'abc' is not a number of seconds (like 5 or 0.5)")]
    [InlineData("--max-body-size", "lots", "--max-body-size: 'lots' is not a number of megabytes (like 32 or 0.5)")]
    public void Resolve_BadOlderOption_IsReportedWithTheOthers(string option, string value, string problem)
    {
        var args = option switch
        {
            "--catalog-ttl" => new ServeArguments { CatalogTtlSeconds = value, QueueLength = "-1" },
            "--listing-timeout" => new ServeArguments { ListingTimeoutSeconds = value, QueueLength = "-1" },
            "--connect-timeout" => new ServeArguments { ConnectTimeoutSeconds = value, QueueLength = "-1" },
            _ => new ServeArguments { MaxBodyMegabytes = value, QueueLength = "-1" },
        };

        var problems = ProblemsOf(args, NoEnvironment);

        problems.Should().Contain(problem);
        problems.Should().Contain(p => p.StartsWith("--queue-length", StringComparison.Ordinal), "every problem is reported at once");
    }

    [Fact]
    public void Resolve_OlderOptionsWithFractions_AreParsed()
    {
        var settings = SettingsResolver.Resolve(
            new ServeArguments { CatalogTtlSeconds = "0.5", ListingTimeoutSeconds = "1.5", ConnectTimeoutSeconds = "2", MaxBodyMegabytes = "0.5" },
            NoEnvironment);

        settings.CatalogTtl.Should().Be(TimeSpan.FromMilliseconds(500));
        settings.ListingTimeout.Should().Be(TimeSpan.FromMilliseconds(1500));
        settings.ConnectTimeout.Should().Be(TimeSpan.FromSeconds(2));
        settings.MaxBodyBytes.Should().Be(512 * 1024);
    }

    [Fact]
    public void Resolve_NoFleetOptions_UsesTheDocumentedDefaults()
    {
        var settings = SettingsResolver.Resolve(new ServeArguments(), NoEnvironment);

        settings.FirstByteTimeout.Should().Be(TimeSpan.FromSeconds(600));
        settings.IdleTimeout.Should().Be(TimeSpan.FromSeconds(300));
        settings.HealthInterval.Should().Be(TimeSpan.FromSeconds(5));
        settings.FailureThreshold.Should().Be(3);
        settings.DefaultMaxConcurrency.Should().Be(1);
        settings.QueueLength.Should().Be(512);
        settings.QueueTimeout.Should().Be(TimeSpan.FromSeconds(120));
        settings.MaxAttempts.Should().Be(3);
        settings.DrainTimeout.Should().Be(TimeSpan.FromSeconds(30));
        settings.ExplainRoutes.Should().BeFalse();
        settings.ConfigPollInterval.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Resolve_FleetOptions_AreParsedIncludingFractionsOfSeconds()
    {
        var args = new ServeArguments
        {
            FirstByteTimeoutSeconds = "0.5",
            IdleTimeoutSeconds = "1.25",
            HealthIntervalSeconds = "0.1",
            FailureThreshold = "1",
            MaxConcurrency = "4",
            QueueLength = "10",
            QueueTimeoutSeconds = "2.5",
            ColdLoadSeconds = "30",
            MaxAttempts = "1",
            DrainTimeoutSeconds = "0.25",
            ExplainRoutes = true,
            ConfigPollSeconds = "0.1",
        };

        var settings = SettingsResolver.Resolve(args, NoEnvironment);

        settings.FirstByteTimeout.Should().Be(TimeSpan.FromMilliseconds(500));
        settings.IdleTimeout.Should().Be(TimeSpan.FromMilliseconds(1250));
        settings.HealthInterval.Should().Be(TimeSpan.FromMilliseconds(100));
        settings.FailureThreshold.Should().Be(1);
        settings.DefaultMaxConcurrency.Should().Be(4);
        settings.QueueLength.Should().Be(10);
        settings.QueueTimeout.Should().Be(TimeSpan.FromMilliseconds(2500));
        settings.ColdLoadEstimate.Should().Be(TimeSpan.FromSeconds(30));
        settings.MaxAttempts.Should().Be(1);
        settings.DrainTimeout.Should().Be(TimeSpan.FromMilliseconds(250));
        settings.ExplainRoutes.Should().BeTrue();
        settings.ConfigPollInterval.Should().Be(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Resolve_ZeroWhereItMeansSomething_IsAccepted()
    {
        var args = new ServeArguments { MaxConcurrency = "0", QueueLength = "0", DrainTimeoutSeconds = "0", ConfigPollSeconds = "0" };

        var settings = SettingsResolver.Resolve(args, NoEnvironment);

        settings.DefaultMaxConcurrency.Should().Be(0, "0 is unlimited");
        settings.QueueLength.Should().Be(0, "0 is no queue");
        settings.DrainTimeout.Should().Be(TimeSpan.Zero);
        settings.ConfigPollInterval.Should().Be(TimeSpan.Zero, "0 turns reloading off");
    }

    [Theory]
    [InlineData("--first-byte-timeout", "0", "must be more than 0 seconds, not 0")]
    [InlineData("--idle-timeout", "-1", "must be more than 0 seconds, not -1")]
    [InlineData("--health-interval", "soon", "'soon' is not a number of seconds (like 5 or 0.5)")]
    [InlineData("--queue-timeout", "2m", "'2m' is not a number of seconds (like 120 or 0.5)")]
    [InlineData("--drain-timeout", "-5", "must be 0 (end running streams at once) or more seconds, not -5")]
    [InlineData("--config-poll", "NaN", "'NaN' is not a number of seconds")]
    [InlineData("--config-poll", "-0.5", "must be 0 (never reload) or more seconds, not -0.5")]
    [InlineData("--failure-threshold", "0", "must be 1 or more, not 0")]
    [InlineData("--failure-threshold", "1.5", "'1.5' is not a whole number (like 3)")]
    [InlineData("--max-concurrency", "-1", "must be 0 (unlimited) or more, not -1")]
    [InlineData("--max-concurrency", "many", "'many' is not a whole number (like 1)")]
    [InlineData("--queue-length", "-2", "must be 0 (no queue) or more, not -2")]
    [InlineData("--max-attempts", "0", "must be 1 or more, not 0")]
    public void Resolve_BadFleetOption_IsReportedNamingTheOptionAndTheFix(string option, string value, string expected)
    {
        var args = option switch
        {
            "--first-byte-timeout" => new ServeArguments { FirstByteTimeoutSeconds = value },
            "--idle-timeout" => new ServeArguments { IdleTimeoutSeconds = value },
            "--health-interval" => new ServeArguments { HealthIntervalSeconds = value },
            "--queue-timeout" => new ServeArguments { QueueTimeoutSeconds = value },
            "--drain-timeout" => new ServeArguments { DrainTimeoutSeconds = value },
            "--config-poll" => new ServeArguments { ConfigPollSeconds = value },
            "--failure-threshold" => new ServeArguments { FailureThreshold = value },
            "--max-concurrency" => new ServeArguments { MaxConcurrency = value },
            "--queue-length" => new ServeArguments { QueueLength = value },
            "--max-attempts" => new ServeArguments { MaxAttempts = value },
            _ => throw new ArgumentOutOfRangeException(nameof(option)),
        };

        var problems = ProblemsOf(args, NoEnvironment);

        problems.Should().ContainSingle().Which.Should().StartWith(option + ": ").And.Contain(expected);
    }

    [Fact]
    public void Resolve_SeveralBadFleetOptions_ReportsThemAllAtOnce()
    {
        var args = new ServeArguments
        {
            Listen = "nope",
            IdleTimeoutSeconds = "abc",
            QueueLength = "-1",
            MaxAttempts = "0",
            ConfigPollSeconds = "x",
        };

        var problems = ProblemsOf(args, NoEnvironment);

        problems.Should().HaveCount(5);
        problems.Should().Contain(p => p.StartsWith("--listen", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--idle-timeout", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--queue-length", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--max-attempts", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--config-poll", StringComparison.Ordinal));
    }

    [Fact]
    public void Resolve_ConfigFileWithBackendOption_KeepsTheOptionsBackendsFixedAcrossReloads()
    {
        var path = ConfigFileWith("""{ "backends": [ { "url": "http://gpu1:11434" } ] }""");

        var settings = SettingsResolver.Resolve(new ServeArguments { ConfigFile = path, Backends = ["http://gpu0:11434"] }, NoEnvironment);

        settings.FixedBackends.Select(b => b.Name).Should().Equal("gpu0:11434");
    }

    [Fact]
    public void Resolve_ConfigFileReplacingTheDefaultBackend_HasNoFixedBackends()
    {
        var path = ConfigFileWith("""{ "backends": [ { "url": "http://gpu1:11434" } ] }""");

        var settings = SettingsResolver.Resolve(new ServeArguments { ConfigFile = path }, NoEnvironment);

        settings.FixedBackends.Should().BeEmpty("the file replaced the default backend, and a reload does too");
    }

    [Fact]
    public void Resolve_NothingAboutUsage_RecordsKeptThirtyDaysMetricsOnRequestLogOnlyOffATerminal()
    {
        var atTerminal = SettingsResolver.Resolve(new ServeArguments(), NoEnvironment, outputIsTerminal: true);
        var redirected = SettingsResolver.Resolve(new ServeArguments(), NoEnvironment, outputIsTerminal: false);

        atTerminal.UsageRecords.Should().BeTrue();
        atTerminal.Metrics.Should().BeTrue();
        atTerminal.UsageRetention.Should().Be(TimeSpan.FromDays(30));
        atTerminal.RequestLog.Should().Be(RequestLogFormat.Off, "a person at a terminal does not want a JSON line per request");
        redirected.RequestLog.Should().Be(RequestLogFormat.Json, "a service's output goes to a log collector");
        atTerminal.LogBodies.Should().BeFalse();
        atTerminal.MetricsPerKey.Should().BeFalse();
        atTerminal.MetricsToken.Should().BeNull();
    }

    [Fact]
    public void Resolve_UsageFlags_TakenFromTheCommandLineOverTheEnvironment()
    {
        var settings = SettingsResolver.Resolve(
            new ServeArguments { Usage = "off", UsageRetentionDays = "0.5", RequestLog = "JSON", LogBodies = true, MetricsPerKey = true, MetricsToken = "scrape-token-0123456789" },
            Environment(("CORRAL_USAGE", "on"), ("CORRAL_METRICS", "off"), ("CORRAL_REQUEST_LOG", "off")),
            outputIsTerminal: true);

        settings.UsageRecords.Should().BeFalse();
        settings.Metrics.Should().BeFalse("the environment says so and the command line says nothing");
        settings.UsageRetention.Should().Be(TimeSpan.FromHours(12));
        settings.RequestLog.Should().Be(RequestLogFormat.Json);
        settings.LogBodies.Should().BeTrue();
        settings.MetricsPerKey.Should().BeTrue();
        settings.MetricsToken.Should().Be("scrape-token-0123456789");
    }

    [Fact]
    public void Resolve_BadUsageFlags_EveryProblemNamedAtOnce()
    {
        var problems = ProblemsOf(
            new ServeArguments { Usage = "maybe", UsageRetentionDays = "-1", RequestLog = "text", MetricsToken = "short" },
            Environment(("CORRAL_METRICS", "yes")));

        problems.Should().Contain(p => p.StartsWith("--usage: 'maybe' is not 'on' or 'off'", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("CORRAL_METRICS: 'yes' is not 'on' or 'off'", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--usage-retention: must be 0 (keep for ever) or more days", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--request-log: 'text' is not 'json' or 'off'", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("--metrics-token: the token must be at least 16 characters", StringComparison.Ordinal));
    }
}
