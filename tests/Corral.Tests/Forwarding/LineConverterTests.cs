using System.Buffers;
using System.Text;
using Corral.OpenAi;

namespace Corral.Tests.Forwarding;

public sealed class LineConverterTests
{
    private static readonly FakeTimeProvider s_time = new(new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero));

    private static readonly string s_stream = string.Concat(
        "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T12:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n",
        "\n",
        "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T12:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\r\n",
        "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T12:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":2}");

    private static async Task<string> ConvertAsync(params int[] cuts)
    {
        var converter = new ChatStreamConverter("chatcmpl-1", null, includeUsage: true, s_time);
        var output = new ArrayBufferWriter<byte>();
        var bytes = Encoding.UTF8.GetBytes(s_stream);
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            converter.Convert(bytes.AsSpan(start, cut - start), output);
            start = cut;
        }

        (await converter.CompleteAsync(null, output)).Should().BeTrue("the stream ended with its final line");
        converter.CompletionTokens.Should().Be(2);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public async Task Convert_LinesSplitAcrossChunksAnyWay_SameFramesAsWhole()
    {
        var whole = await ConvertAsync();
        whole.Should().Contain("\"content\":\"Hel\"").And.Contain("\"content\":\"lo\"").And.EndWith("data: [DONE]\n\n");

        for (var cut = 1; cut < s_stream.Length; cut += 7)
        {
            (await ConvertAsync(cut)).Should().Be(whole, $"the stream was cut at byte {cut}");
        }

        (await ConvertAsync(Enumerable.Range(1, s_stream.Length - 1).ToArray())).Should().Be(whole, "one byte at a time");
    }

    [Fact]
    public async Task Complete_StreamEndsBeforeItsFinalLine_ErrorFrameAndNotWhole()
    {
        var converter = new ChatStreamConverter("chatcmpl-1", null, includeUsage: false, s_time);
        var output = new ArrayBufferWriter<byte>();
        converter.Convert(Encoding.UTF8.GetBytes(s_stream[..s_stream.IndexOf("\r\n", StringComparison.Ordinal)]), output);

        (await converter.CompleteAsync(null, output)).Should().BeFalse();

        Encoding.UTF8.GetString(output.WrittenSpan).Should().Contain("\"error\":{\"message\":\"the backend ended the stream before its final line\"");
        converter.Error.Should().Be("the backend ended the stream before its final line");
    }
}
