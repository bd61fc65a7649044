using Corral.Catalog;

namespace Corral.Tests.Catalog;

public sealed class ModelNameTests
{
    [Theory]
    [InlineData("llama3.2", "llama3.2:latest")]
    [InlineData("llama3.2:1b", "llama3.2:1b")]
    [InlineData("llama3.2:", "llama3.2:latest")]
    [InlineData("  llama3.2  ", "llama3.2:latest")]
    [InlineData("library/llama3.2", "llama3.2:latest")]
    [InlineData("registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest")]
    [InlineData("registry.ollama.ai/library/llama3.2:8b", "llama3.2:8b")]
    [InlineData("myuser/mymodel", "myuser/mymodel:latest")]
    [InlineData("registry.ollama.ai/myuser/mymodel:v2", "myuser/mymodel:v2")]
    [InlineData("hf.co/org/m:Q4", "hf.co/org/m:Q4")]
    [InlineData("hf.co/org/m", "hf.co/org/m:latest")]
    [InlineData("localhost:5000/ns/m", "localhost:5000/ns/m:latest")]
    [InlineData("localhost:5000/ns/m:v1", "localhost:5000/ns/m:v1")]
    [InlineData("https://hf.co/org/m:Q4", "hf.co/org/m:Q4")]
    public void Canonical_Name_IsOllamasShortestDisplayForm(string name, string expected)
    {
        ModelName.Canonical(name).Should().Be(expected);
    }

    [Fact]
    public void Canonical_NameWithDigest_KeepsDigestAfterTag()
    {
        ModelName.Canonical("llama3.2@sha256:abc").Should().Be("llama3.2:latest@sha256:abc");
    }

    [Fact]
    public void Canonical_PortColonBeforeSlash_IsNotTakenAsTag()
    {
        var canonical = ModelName.Canonical("localhost:5000/ns/m");

        canonical.Should().StartWith("localhost:5000/");
        canonical.Should().EndWith(":latest");
    }

    [Theory]
    [InlineData("Llama3.2", "llama3.2")]
    [InlineData("LLAMA3.2:LATEST", "llama3.2")]
    [InlineData("Library/Llama3.2", "llama3.2:latest")]
    [InlineData("REGISTRY.OLLAMA.AI/LIBRARY/llama3.2", "llama3.2")]
    [InlineData("HF.co/Org/M:q4", "hf.co/org/m:Q4")]
    public void Key_NamesDifferingOnlyInCaseOrDefaults_AreEqual(string a, string b)
    {
        ModelName.Key(a).Should().Be(ModelName.Key(b));
    }

    [Fact]
    public void Key_DifferentTags_AreDifferent()
    {
        ModelName.Key("llama3.2:1b").Should().NotBe(ModelName.Key("llama3.2:3b"));
    }

    [Fact]
    public void Key_SameModelInDifferentNamespaces_AreDifferent()
    {
        ModelName.Key("myuser/llama3.2").Should().NotBe(ModelName.Key("llama3.2"));
    }

    [Fact]
    public void Key_Name_IsLowerCaseCanonical()
    {
        ModelName.Key("MyUser/Model:Q4_K_M").Should().Be("myuser/model:q4_k_m");
    }

    [Theory]
    [InlineData("llama3.2", "library")]
    [InlineData("library/llama3.2:1b", "library")]
    [InlineData("registry.ollama.ai/library/llama3.2", "library")]
    [InlineData("myuser/x", "myuser")]
    [InlineData("myuser/x:v1", "myuser")]
    [InlineData("hf.co/org/m:Q4", "org")]
    [InlineData("localhost:5000/ns/m", "ns")]
    public void Namespace_Name_IsOllamaNamespace(string name, string expected)
    {
        ModelName.Namespace(name).Should().Be(expected);
    }
}
