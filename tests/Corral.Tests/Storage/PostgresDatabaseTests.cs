using Corral.Hosting;
using Corral.Storage;
using Npgsql;

namespace Corral.Tests.Storage;

/// <summary><c>--database</c>: URLs as libpq reads them, or Npgsql connection strings; no server needed.</summary>
public sealed class PostgresDatabaseTests
{
    [Fact]
    public void TryParse_FullUrl_EveryPart()
    {
        var builder = Parse("postgres://corral:s3cret@db.example.com:6543/usage");

        (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database).Should().Be(("db.example.com", 6543, "corral", "s3cret", "usage"));
    }

    [Fact]
    public void TryParse_PostgresqlSchemeNoPortNoPassword_DefaultPort()
    {
        var builder = Parse("postgresql://corral@db/corral");

        (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database).Should().Be(("db", 5432, "corral", null, "corral"));
    }

    [Fact]
    public void TryParse_PercentEncoded_Decoded()
    {
        var builder = Parse("postgres://ops%40team:p%40ss%3Aw%2Ford%25@db/my%20db");

        (builder.Username, builder.Password, builder.Database).Should().Be(("ops@team", "p@ss:w/ord%", "my db"));
    }

    [Fact]
    public void TryParse_PasswordWithUnencodedAtSlashAndQuestionMark_StaysThePassword()
    {
        var builder = Parse("postgres://corral:p@ss/w?rd@db:5433/corral");

        (builder.Password, builder.Host, builder.Port, builder.Database).Should().Be(("p@ss/w?rd", "db", 5433, "corral"));
    }

    [Theory]
    [InlineData("disable", SslMode.Disable)]
    [InlineData("allow", SslMode.Allow)]
    [InlineData("prefer", SslMode.Prefer)]
    [InlineData("require", SslMode.Require)]
    [InlineData("verify-ca", SslMode.VerifyCA)]
    [InlineData("verify-full", SslMode.VerifyFull)]
    public void TryParse_SslMode_MappedToNpgsql(string given, SslMode expected) =>
        Parse($"postgres://corral:x@db/corral?sslmode={given}").SslMode.Should().Be(expected);

    [Fact]
    public void TryParse_OtherParameters_Mapped()
    {
        var builder = Parse("postgres://corral@db/corral?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=corral%20eu&connect_timeout=3&target_session_attrs=read-write");

        (builder.RootCertificate, builder.ApplicationName, builder.Timeout, builder.TargetSessionAttributes).Should().Be(("/etc/ca.pem", "corral eu", 3, "read-write"));
    }

    [Fact]
    public void TryParse_Ipv6AndSeveralHosts_NpgsqlHostList()
    {
        Parse("postgres://corral@[::1]:5433/corral").Should().Match<NpgsqlConnectionStringBuilder>(b => b.Host == "::1" && b.Port == 5433);
        Parse("postgres://corral@db1:5433,db2,[fd00::2]:5434/corral").Host.Should().Be("db1:5433,db2,[fd00::2]:5434");
    }

    [Fact]
    public void TryParse_NpgsqlConnectionString_TakenAsItIs()
    {
        var builder = Parse("Host=db;Port=6000;Username=corral;Password=s3cret;Database=corral;Maximum Pool Size=20");

        (builder.Host, builder.Port, builder.Password, builder.MaxPoolSize).Should().Be(("db", 6000, "s3cret", 20));
    }

    [Theory]
    [InlineData("postgres://corral:s3cret@db/corral?sslmode=sometimes", "sslmode 'sometimes' is not one of disable, allow, prefer, require, verify-ca, verify-full")]
    [InlineData("postgres://corral:s3cret@db/corral?colour=blue", "the parameter 'colour' is not one of sslmode")]
    [InlineData("postgres://corral:s3cret@db:port/corral", "the port 'port' is not a number")]
    [InlineData("postgres://corral:s3cret@db:70000/corral", "the port '70000' is not a number from 1 to 65535")]
    [InlineData("postgres://corral:s3cret@/corral", "names no host")]
    [InlineData("postgres://corral:s3%zzcret@db/corral", "is not percent-encoded correctly")]
    [InlineData("postgres://corral:s3cret@db/a/b", "is not one name")]
    [InlineData("postgres://corral@db/corral?password=s3cret&connect_timeout=soon", "connect_timeout 'soon' is not a number of seconds")]
    [InlineData("Host=db;Password=s3cret;Colour=blue", "not a valid Npgsql connection string")]
    [InlineData("Username=corral;Password=s3cret", "names no host")]
    [InlineData("mysql://corral:s3cret@db/corral", "is neither a postgres:// URL nor an Npgsql connection string")]
    public void TryParse_Bad_ProblemSaysWhyAndNeverThePassword(string text, string expected)
    {
        PostgresDatabase.TryParse(text, out var problem).Should().BeNull();

        problem.Should().Contain(expected).And.NotContain("s3cret");
    }

    [Fact]
    public void Describe_ConnectionString_UserHostPortDatabaseNoPassword() =>
        PostgresDatabase.Describe("Host=db;Port=6000;Username=corral;Password=s3cret;Database=usage").Should().Be("corral@db:6000/usage");

    [Fact]
    public void WithoutPassword_MessageHoldingIt_Blanked() =>
        PostgresDatabase.WithoutPassword("login failed with s3cret", "Host=db;Password=s3cret").Should().Be("login failed with ***");

    [Fact]
    public void Resolve_DatabaseOptionOrEnvironment_ConnectionStringInSettings()
    {
        var fromOption = SettingsResolver.Resolve(new ServeArguments { Database = "postgres://corral:x@db/corral" }, name => name == "CORRAL_DATABASE" ? "postgres://other@elsewhere/other" : null);
        var fromEnvironment = SettingsResolver.Resolve(new ServeArguments(), name => name == "CORRAL_DATABASE" ? "postgres://other@elsewhere/other" : null);
        var neither = SettingsResolver.Resolve(new ServeArguments(), _ => null);

        new NpgsqlConnectionStringBuilder(fromOption.Database).Host.Should().Be("db");
        new NpgsqlConnectionStringBuilder(fromEnvironment.Database).Host.Should().Be("elsewhere");
        neither.Database.Should().BeNull("SQLite in --data is the default");
    }

    [Fact]
    public void Resolve_BadDatabase_ConfigurationProblemNamingTheOptionNotThePassword()
    {
        var resolve = () => SettingsResolver.Resolve(new ServeArguments { Database = "postgres://corral:s3cret@db/corral?sslmode=maybe" }, _ => null);

        var problem = resolve.Should().Throw<ConfigurationException>().Which.Problems.Should().ContainSingle().Subject;
        problem.Should().StartWith("--database: ").And.Contain("postgres://corral:***@db/corral").And.NotContain("s3cret");
    }

    private static NpgsqlConnectionStringBuilder Parse(string text)
    {
        var connectionString = PostgresDatabase.TryParse(text, out var problem);
        problem.Should().BeNull();
        return new NpgsqlConnectionStringBuilder(connectionString);
    }
}
