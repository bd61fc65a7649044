using Corral.Access;

namespace Corral.Tests.Access;

public sealed class ModelAllowListTests
{
    [Theory]
    [InlineData("llama3*", "llama3.2:latest", true)]
    [InlineData("llama3*", "LLAMA3.1:8b", true)]
    [InlineData("llama3*", "big.llama3.2:latest", false)]
    [InlineData("big.*", "big.llama3.3:70b", true)]
    [InlineData("big.*", "bigger.qwen3:32b", false)]
    [InlineData("qwen?:7b", "qwen3:7b", true)]
    [InlineData("qwen?:7b", "qwen2.5:7b", false)]
    [InlineData("*embed*", "nomic-embed-text:latest", true)]
    [InlineData("llama3.2", "llama3.2:latest", true)]
    [InlineData("llama3.2", "llama3.2:1b", false)]
    [InlineData("qwen2.5:7b", "qwen2.5:latest", false)]
    [InlineData("host:5000/team/llama3", "host:5000/team/llama3:latest", true)]
    [InlineData("*", "anything:at-all", true)]
    public void Allows_GlobOverTheCatalogId(string pattern, string model, bool allowed) =>
        ModelAllowList.Of([pattern]).Allows(model).Should().Be(allowed);

    [Fact]
    public void NoPatterns_EveryModel() =>
        ModelAllowList.Of([]).Allows("whatever:1b").Should().BeTrue();

    [Fact]
    public void SeveralPatterns_AnyOneAllows()
    {
        var list = ModelAllowList.Of(["llama3*", "phi3"]);

        list.Allows("phi3:latest").Should().BeTrue();
        list.Allows("llama3.1:8b").Should().BeTrue();
        list.Allows("mistral:latest").Should().BeFalse();
    }

    [Fact]
    public void Glob_ManyStarsOnALongName_StaysFast()
    {
        // Backtracking only to the last star: a client's long model name cannot make a match cost more than linear passes.
        var name = new string('a', 10_000);

        ModelAllowList.Glob("*a*a*a*a*a*a*b", name).Should().BeFalse();
        ModelAllowList.Glob("*a*a*a*a*a*a*", name).Should().BeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData(" llama3")]
    [InlineData("llama\n3")]
    public void Check_NotAPattern_IsAProblem(string pattern)
    {
        var problems = new List<string>();

        ModelAllowList.Check([pattern], "models", problems);

        problems.Should().ContainSingle().Which.Should().Contain("is not a model pattern");
    }
}
