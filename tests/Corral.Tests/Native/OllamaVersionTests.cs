using Corral.Native;

namespace Corral.Tests.Native;

public sealed class OllamaVersionTests
{
    [Theory]
    [InlineData("0.10.0", "0.9.9")]
    [InlineData("0.12.1", "0.12.0")]
    [InlineData("1.0.0", "0.99.99")]
    [InlineData("0.5.10", "0.5.9")]
    [InlineData("v0.10.0", "0.9.9")]
    [InlineData("0.10.0", "v0.9.9")]
    [InlineData("0.12.0-rc1", "0.11.9")]
    [InlineData("0.6", "0.5.9")]
    public void Compare_HigherVersion_IsGreater(string higher, string lower)
    {
        OllamaVersion.Compare(higher, lower).Should().BePositive();
        OllamaVersion.Compare(lower, higher).Should().BeNegative();
    }

    [Theory]
    [InlineData("0.12.0", "0.12.0")]
    [InlineData("v0.12.0", "0.12.0")]
    [InlineData("V0.12.0", "0.12.0")]
    [InlineData("0.12", "0.12.0")]
    [InlineData(" 0.12.0 ", "0.12.0")]
    public void Compare_SameVersionWrittenDifferently_IsEqual(string a, string b)
    {
        OllamaVersion.Compare(a, b).Should().Be(0);
    }

    [Fact]
    public void Compare_ReleaseCandidateOfSameVersion_IsLowerThanRelease()
    {
        // Semantic versioning: a pre-release precedes its release, so a fleet running 0.12.0 and 0.12.0-rc1
        // has 0.12.0-rc1 as its lowest version.
        OllamaVersion.Compare("0.12.0-rc1", "0.12.0").Should().BeNegative();
        OllamaVersion.Compare("v0.12.0", "0.12.0-rc1").Should().BePositive();
    }
}
