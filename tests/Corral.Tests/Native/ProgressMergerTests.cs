using System.Text;
using System.Text.Json;
using Corral.Native;

namespace Corral.Tests.Native;

public sealed class ProgressMergerTests
{
    private const string LayerA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string LayerB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private static byte[]? Accept(ProgressMerger merger, int source, string line) => merger.Accept(source, Encoding.UTF8.GetBytes(line));

    private static JsonElement Json(byte[]? line)
    {
        line.Should().NotBeNull();
        return JsonDocument.Parse(line!).RootElement.Clone();
    }

    [Theory]
    [InlineData("{\"status\":\"pulling manifest\"}")]
    [InlineData("{\"status\":\"pulling aaaaaaaaaaaa\",\"digest\":\"sha256:aaaa\",\"total\":100,\"completed\":5}")]
    [InlineData("{ \"status\" : \"verifying sha256 digest\" , \"extra\": [1, {\"x\": null}] }")]
    [InlineData("{\"status\":\"écrit le manifeste \\u00e9\"}")]
    public void Accept_SingleBackend_PassesLineThroughVerbatim(string line)
    {
        var merger = new ProgressMerger(["only"]);

        var sent = Accept(merger, 0, line);

        sent.Should().Equal(Encoding.UTF8.GetBytes(line));
    }

    [Fact]
    public void Accept_SingleBackendSameStatusTwice_PassesBothThrough()
    {
        var merger = new ProgressMerger(["only"]);

        Accept(merger, 0, "{\"status\":\"pulling manifest\"}").Should().NotBeNull();
        Accept(merger, 0, "{\"status\":\"pulling manifest\"}").Should().NotBeNull();
    }

    [Fact]
    public void Accept_SingleBackendSuccess_IsHeldUntilFinal()
    {
        var merger = new ProgressMerger(["only"]);

        var held = Accept(merger, 0, "{\"status\":\"success\"}");

        held.Should().BeNull();
        merger.Succeeded.Should().BeTrue();
        Json(merger.Final("pull")).GetProperty("status").GetString().Should().Be("success");
    }

    [Fact]
    public void Accept_SingleBackendError_PassesErrorThroughAndFinalAddsNothing()
    {
        var merger = new ProgressMerger(["only"]);
        const string error = "{\"error\":\"pull model manifest: file does not exist\"}";

        var sent = Accept(merger, 0, error);

        sent.Should().Equal(Encoding.UTF8.GetBytes(error));
        merger.Succeeded.Should().BeFalse();
        merger.Final("pull").Should().BeNull();
    }

    [Fact]
    public void Final_SingleBackendStreamEndedWithoutSuccess_IsError()
    {
        var merger = new ProgressMerger(["only"]);
        Accept(merger, 0, "{\"status\":\"pulling manifest\"}");

        var final = Json(merger.Final("pull"));

        final.GetProperty("error").GetString().Should().Contain("'only'").And.Contain("ended without success");
    }

    [Fact]
    public void Accept_TwoBackendsSamePlainStatus_IsShownOnce()
    {
        var merger = new ProgressMerger(["a", "b"]);

        var first = Accept(merger, 0, "{\"status\":\"pulling manifest\"}");
        var second = Accept(merger, 1, "{\"status\":\"pulling manifest\"}");

        Json(first).GetProperty("status").GetString().Should().Be("pulling manifest");
        second.Should().BeNull();
    }

    [Fact]
    public void Accept_TwoBackendsDifferentPlainStatuses_AreEachShown()
    {
        var merger = new ProgressMerger(["a", "b"]);

        Accept(merger, 0, "{\"status\":\"pulling manifest\"}").Should().NotBeNull();
        Accept(merger, 1, "{\"status\":\"verifying sha256 digest\"}").Should().NotBeNull();
        Accept(merger, 1, "{\"status\":\"pulling manifest\"}").Should().BeNull();
    }

    [Fact]
    public void Accept_TwoBackendsSameLayer_SumsTotalAndCompleted()
    {
        var merger = new ProgressMerger(["a", "b"]);

        var afterA = Json(Accept(merger, 0, $"{{\"status\":\"pulling aaaa\",\"digest\":\"{LayerA}\",\"total\":1000,\"completed\":100}}"));
        var afterB = Json(Accept(merger, 1, $"{{\"status\":\"pulling aaaa\",\"digest\":\"{LayerA}\",\"total\":1000,\"completed\":300}}"));
        var afterA2 = Json(Accept(merger, 0, $"{{\"status\":\"pulling aaaa\",\"digest\":\"{LayerA}\",\"total\":1000,\"completed\":600}}"));

        afterA.GetProperty("total").GetInt64().Should().Be(1000);
        afterA.GetProperty("completed").GetInt64().Should().Be(100);
        afterB.GetProperty("digest").GetString().Should().Be(LayerA);
        afterB.GetProperty("total").GetInt64().Should().Be(2000);
        afterB.GetProperty("completed").GetInt64().Should().Be(400);
        afterA2.GetProperty("total").GetInt64().Should().Be(2000);
        afterA2.GetProperty("completed").GetInt64().Should().Be(900);
    }

    [Fact]
    public void Accept_TwoBackendsDifferentLayers_AreSummedSeparately()
    {
        var merger = new ProgressMerger(["a", "b"]);

        Accept(merger, 0, $"{{\"status\":\"pulling aaaa\",\"digest\":\"{LayerA}\",\"total\":1000,\"completed\":100}}");
        var layerB = Json(Accept(merger, 1, $"{{\"status\":\"pulling bbbb\",\"digest\":\"{LayerB}\",\"total\":50,\"completed\":10}}"));

        layerB.GetProperty("digest").GetString().Should().Be(LayerB);
        layerB.GetProperty("total").GetInt64().Should().Be(50);
        layerB.GetProperty("completed").GetInt64().Should().Be(10);
    }

    [Fact]
    public void Accept_TwoBackendsLayerWithoutCompleted_OmitsCompleted()
    {
        var merger = new ProgressMerger(["a", "b"]);

        var line = Json(Accept(merger, 0, $"{{\"status\":\"pulling aaaa\",\"digest\":\"{LayerA}\",\"total\":1000}}"));

        line.GetProperty("total").GetInt64().Should().Be(1000);
        line.TryGetProperty("completed", out _).Should().BeFalse();
    }

    [Fact]
    public void Final_TwoBackendsOnlyOneSucceeded_IsNotSuccess()
    {
        var merger = new ProgressMerger(["a", "b"]);

        Accept(merger, 0, "{\"status\":\"success\"}").Should().BeNull();

        merger.Succeeded.Should().BeFalse();
        var final = Json(merger.Final("pull"));
        final.TryGetProperty("status", out _).Should().BeFalse();
        final.GetProperty("error").GetString().Should().Contain("'b'");
    }

    [Fact]
    public void Final_TwoBackendsBothSucceeded_IsSuccess()
    {
        var merger = new ProgressMerger(["a", "b"]);

        Accept(merger, 0, "{\"status\":\"success\"}").Should().BeNull();
        Accept(merger, 1, "{\"status\":\"success\"}").Should().BeNull();

        merger.Succeeded.Should().BeTrue();
        var final = Json(merger.Final("pull"));
        final.GetProperty("status").GetString().Should().Be("success");
        final.TryGetProperty("error", out _).Should().BeFalse();
    }

    [Fact]
    public void Accept_TwoBackendsErrorLine_IsNotSentMidStream()
    {
        var merger = new ProgressMerger(["a", "b"]);

        var sent = Accept(merger, 1, "{\"error\":\"disk full\"}");

        sent.Should().BeNull();
        Accept(merger, 0, "{\"status\":\"pulling manifest\"}").Should().NotBeNull();
    }

    [Fact]
    public void Final_TwoBackendsOneFailed_NamesFailedBackendWithReasonAndSucceededOne()
    {
        var merger = new ProgressMerger(["gpu-a", "gpu-b"]);
        Accept(merger, 0, "{\"status\":\"pulling manifest\"}");
        Accept(merger, 1, "{\"error\":\"disk full\"}");
        Accept(merger, 0, "{\"status\":\"success\"}");

        var error = Json(merger.Final("pull")).GetProperty("error").GetString();

        error.Should().StartWith("pull failed on 1 of 2 backends");
        error.Should().Contain("backend 'gpu-b': disk full");
        error.Should().Contain("succeeded on 'gpu-a'");
        error.Should().NotContain("backend 'gpu-a'");
    }

    [Fact]
    public void Final_TwoBackendsBothFailed_NamesEachWithItsReason()
    {
        var merger = new ProgressMerger(["gpu-a", "gpu-b"]);
        Accept(merger, 0, "{\"error\":\"manifest unknown\"}");
        merger.Fail(1, "connection refused");

        var error = Json(merger.Final("pull")).GetProperty("error").GetString();

        error.Should().StartWith("pull failed on 2 of 2 backends");
        error.Should().Contain("backend 'gpu-a': manifest unknown");
        error.Should().Contain("backend 'gpu-b': connection refused");
        error.Should().NotContain("succeeded");
    }

    [Fact]
    public void Fail_CalledTwice_KeepsFirstReason()
    {
        var merger = new ProgressMerger(["a", "b"]);
        merger.Fail(1, "first reason");
        merger.Fail(1, "second reason");
        Accept(merger, 0, "{\"status\":\"success\"}");

        var error = Json(merger.Final("create")).GetProperty("error").GetString();

        error.Should().Contain("first reason").And.NotContain("second reason");
        error.Should().StartWith("create failed");
    }
}
