using Corral.Cli;
using Corral.Hosting;

namespace Corral.Tests.Deploy;

/// <summary>Which URL <c>corral health</c> asks for a listen address.</summary>
public sealed class HealthProbeTests
{
    [Theory]
    [InlineData("http://0.0.0.0:11480", "http://127.0.0.1:11480/healthz")]
    [InlineData("http://[::]:8080", "http://[::1]:8080/healthz")]
    [InlineData("http://*:11480", "http://127.0.0.1:11480/healthz")]
    [InlineData("http://+:11480", "http://127.0.0.1:11480/healthz")]
    [InlineData("http://127.0.0.1:11480/", "http://127.0.0.1:11480/healthz")]
    [InlineData("http://corral.lan:9000;http://0.0.0.0:9001", "http://corral.lan:9000/healthz")]
    [InlineData("https://localhost:8443", "https://localhost:8443/healthz")]
    public void ProbeUri_AsksHealthz_OnLoopbackForEveryInterface(string listen, string expected)
    {
        HealthCommand.ProbeUri(listen).Should().Be(new Uri(expected));
    }

    [Theory]
    [InlineData("")]
    [InlineData("11480")]
    [InlineData("ftp://127.0.0.1:11480")]
    public void ProbeUri_NotAnHttpUrl_IsNull(string listen)
    {
        HealthCommand.ProbeUri(listen).Should().BeNull();
    }

    [Fact]
    public void Listen_IsServesOwn_GivenThenEnvironmentThenDefault()
    {
        SettingsResolver.Listen("http://127.0.0.1:1", _ => "http://0.0.0.0:2").Should().Be("http://127.0.0.1:1");
        SettingsResolver.Listen(null, name => name == "CORRAL_LISTEN" ? "http://0.0.0.0:2" : null).Should().Be("http://0.0.0.0:2");
        SettingsResolver.Listen(null, _ => null).Should().Be(CorralSettings.DefaultListen);
        SettingsResolver.Resolve(new ServeArguments(), name => name == "CORRAL_LISTEN" ? "http://0.0.0.0:2" : null).Listen.Should().Be("http://0.0.0.0:2");
    }
}
