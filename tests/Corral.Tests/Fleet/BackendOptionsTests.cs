using Corral.Fleet;

namespace Corral.Tests.Fleet;

public sealed class BackendOptionsTests
{
    private static BackendOptions Sample() => new()
    {
        Name = "gpu1",
        Url = new Uri("http://gpu1:11434"),
        Key = "token",
        Prefix = "big",
        Models = ["llama3.2", "qwen3"],
        Tags = ["a100"],
        Weight = 2,
        MaxConcurrency = 4,
        Priority = 1,
        ConnectTimeout = TimeSpan.FromSeconds(1),
        FirstByteTimeout = TimeSpan.FromSeconds(60),
        IdleTimeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public void Equals_ListsWithTheSameContent_AreEqual()
    {
        var a = Sample();
        var b = Sample() with { Models = new List<string> { "llama3.2", "qwen3" }, Tags = new[] { "a100" } };

        a.Models.Should().NotBeSameAs(b.Models);
        a.Should().Be(b);
        (a == b).Should().BeTrue();
        a.GetHashCode().Should().Be(b.GetHashCode());
    }

    private static readonly Dictionary<string, Func<BackendOptions, BackendOptions>> s_changes = new()
    {
        ["name"] = o => o with { Name = "gpu2" },
        ["url"] = o => o with { Url = new Uri("http://gpu1:11435") },
        ["enabled"] = o => o with { Enabled = false },
        ["key"] = o => o with { Key = "other" },
        ["prefix"] = o => o with { Prefix = null },
        ["models order"] = o => o with { Models = ["qwen3", "llama3.2"] },
        ["models content"] = o => o with { Models = ["llama3.2"] },
        ["tags"] = o => o with { Tags = [] },
        ["weight"] = o => o with { Weight = 1 },
        ["maxConcurrency unset"] = o => o with { MaxConcurrency = null },
        ["priority"] = o => o with { Priority = 0 },
        ["connectTimeout"] = o => o with { ConnectTimeout = null },
        ["firstByteTimeout"] = o => o with { FirstByteTimeout = TimeSpan.FromSeconds(61) },
        ["idleTimeout"] = o => o with { IdleTimeout = TimeSpan.FromSeconds(31) },
    };

    public static TheoryData<string> Changes() => [.. s_changes.Keys];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Equals_AnyFieldChanged_IsNotEqual(string field)
    {
        var changed = s_changes[field](Sample());

        (Sample() == changed).Should().BeFalse($"a changed {field} must be applied on reload");
        Sample().Equals(changed).Should().BeFalse();
    }

    [Fact]
    public void Equals_Null_IsFalse()
    {
        Sample().Equals(null).Should().BeFalse();
        (Sample() == null).Should().BeFalse();
    }
}
