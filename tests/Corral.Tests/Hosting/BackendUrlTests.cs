using Corral.Hosting;

namespace Corral.Tests.Hosting;

public sealed class BackendUrlTests
{
    [Theory]
    [InlineData("192.168.1.10:11434")]
    [InlineData("localhost:11434")]
    [InlineData("gpu-box")]
    public void TryParse_NoScheme_SuggestsHttp(string text)
    {
        var url = BackendUrl.TryParse(text, out var problem);

        url.Should().BeNull();
        problem.Should().Contain($"did you mean http://{text}?");
    }

    [Theory]
    [InlineData("http://10.0.0.5:11434/", "http://10.0.0.5:11434/")]
    [InlineData("http://10.0.0.5:11434", "http://10.0.0.5:11434/")]
    [InlineData("http://proxy.example/ollama/", "http://proxy.example/ollama")]
    [InlineData("http://proxy.example/ollama//", "http://proxy.example/ollama")]
    [InlineData("https://proxy.example/ollama", "https://proxy.example/ollama")]
    [InlineData("  \"http://10.0.0.5:11434\"  ", "http://10.0.0.5:11434/")]
    [InlineData("'http://10.0.0.5:11434'", "http://10.0.0.5:11434/")]
    public void TryParse_ValidUrl_DropsTrailingSlashOfPath(string text, string expected)
    {
        var url = BackendUrl.TryParse(text, out var problem);

        problem.Should().BeNull();
        url!.AbsoluteUri.Should().Be(expected);
    }

    [Fact]
    public void TryParse_WithAndWithoutTrailingSlash_GiveEqualUrls()
    {
        BackendUrl.TryParse("http://proxy.example/ollama/", out _)
            .Should().Be(BackendUrl.TryParse("http://proxy.example/ollama", out _));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("ftp://host:21", "only http and https")]
    [InlineData("http://user:pass@host:11434", "credentials")]
    [InlineData("http://host:11434/?x=1", "query or fragment")]
    [InlineData("http://host:11434/#top", "query or fragment")]
    [InlineData("http://host:notaport", "not a valid URL")]
    public void TryParse_BadUrl_ExplainsWhy(string text, string explanation)
    {
        var url = BackendUrl.TryParse(text, out var problem);

        url.Should().BeNull();
        problem.Should().Contain(explanation);
    }

    [Theory]
    [InlineData("http://10.0.0.5:11434", "10.0.0.5:11434")]
    [InlineData("http://gpu-box", "gpu-box:80")]
    [InlineData("https://gpu-box/ollama", "gpu-box:443")]
    public void DefaultName_Url_IsHostAndPort(string text, string expected)
    {
        BackendUrl.DefaultName(new Uri(text)).Should().Be(expected);
    }
}
