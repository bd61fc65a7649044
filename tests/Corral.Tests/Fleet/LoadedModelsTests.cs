using Corral.Fleet;

namespace Corral.Tests.Fleet;

public sealed class LoadedModelsTests
{
    private static readonly DateTimeOffset s_now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Replace_NewList_ForgetsModelsNoLongerListed()
    {
        var loaded = new LoadedModels();
        loaded.MarkLoaded("llama3.2:latest", s_now.AddMinutes(5), s_now);
        loaded.MarkLoaded("phi3:latest", s_now.AddMinutes(5), s_now);

        loaded.Replace([("phi3:latest", s_now.AddMinutes(1)), ("gemma3:latest", s_now.AddMinutes(2))]);

        loaded.IsLoaded("llama3.2:latest", s_now).Should().BeFalse();
        loaded.Snapshot(s_now).Should().Equal(("gemma3:latest", s_now.AddMinutes(2)), ("phi3:latest", s_now.AddMinutes(1)));
    }

    [Fact]
    public void IsLoaded_ExpiryPassed_False()
    {
        var loaded = new LoadedModels();
        loaded.Replace([("llama3.2:latest", s_now.AddMinutes(5))]);

        loaded.IsLoaded("llama3.2:latest", s_now.AddMinutes(4)).Should().BeTrue();
        loaded.IsLoaded("llama3.2:latest", s_now.AddMinutes(5)).Should().BeFalse();
        loaded.Snapshot(s_now.AddMinutes(6)).Should().BeEmpty();
    }

    [Fact]
    public void MarkLoaded_ExpiryNotInTheFuture_Unloads()
    {
        var loaded = new LoadedModels();
        loaded.MarkLoaded("llama3.2:latest", s_now.AddMinutes(5), s_now);

        loaded.MarkLoaded("llama3.2:latest", s_now, s_now);

        loaded.IsLoaded("llama3.2:latest", s_now.AddSeconds(-1)).Should().BeFalse("keep_alive 0 unloads at once");
    }
}
