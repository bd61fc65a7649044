using System.Buffers;
using System.Net;
using System.Text;
using Corral.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Corral.Tests.Forwarding;

public sealed class CompatibleAnswerConverterTests
{
    private const string MessagesStream =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"llama3.2\",\"usage\":{\"input_tokens\":9,\"output_tokens\":0}}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"model\"}}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}\n\n"
        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    private static (CompatibleAnswerConverter Converter, DefaultHttpContext Context) Begin(string? renameTo, string contentType, HttpStatusCode status = HttpStatusCode.OK)
    {
        var converter = new CompatibleAnswerConverter(renameTo, message => Encoding.UTF8.GetBytes($"event: error\ndata: {message}\n\n"), ["message_stop", "response.completed"]);
        var context = new DefaultHttpContext();
        using var upstream = new HttpResponseMessage(status) { Content = new StringContent(string.Empty) };
        upstream.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        upstream.Content.Headers.ContentLength = null;
        converter.Begin(context, upstream);
        return (converter, context);
    }

    // Feeds the text in chunks of `size` bytes, as reads may cut it anywhere.
    private static async Task<(string Output, bool Whole)> RelayAsync(CompatibleAnswerConverter converter, string text, int size)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var output = new ArrayBufferWriter<byte>();
        for (var i = 0; i < bytes.Length; i += size)
        {
            converter.Convert(bytes.AsSpan(i, Math.Min(size, bytes.Length - i)), output);
        }

        var whole = await converter.CompleteAsync(null, output);
        return (Encoding.UTF8.GetString(output.WrittenSpan), whole);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task Convert_MessagesStreamCutAnywhere_ModelOfTheMessageRenamed_UsageOfTheLastEvent(int size)
    {
        var (converter, _) = Begin("support-bot", "text/event-stream");

        var (output, whole) = await RelayAsync(converter, MessagesStream, size);

        output.Should().Be(MessagesStream.Replace("\"model\":\"llama3.2\"", "\"model\":\"support-bot\"", StringComparison.Ordinal), "only the model's value changes, blank lines and all");
        whole.Should().BeTrue("the stream ended with message_stop");
        converter.PromptTokens.Should().Be(12, "message_delta counts again, and wins over message_start's estimate");
        converter.CompletionTokens.Should().Be(3);
        converter.Error.Should().BeNull();
    }

    [Fact]
    public async Task Convert_NoRename_BytesPassAsTheyCame_UsageStillRead()
    {
        var (converter, context) = Begin(null, "text/event-stream");

        var (output, _) = await RelayAsync(converter, MessagesStream, 64);

        output.Should().Be(MessagesStream);
        converter.PromptTokens.Should().Be(12);
        context.Response.StatusCode.Should().Be(200);
    }

    [Fact]
    public async Task Convert_ResponsesJsonBody_TopLevelModelRenamed_UsageRead()
    {
        var (converter, context) = Begin("gpt-4o-mini", "application/json");
        const string Body = "{\"id\":\"resp_1\",\"object\":\"response\",\"model\":\"llama3.2\",\"output\":[{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"hi\"}]}],\"usage\":{\"input_tokens\":20,\"input_tokens_details\":{\"cached_tokens\":0},\"output_tokens\":5,\"total_tokens\":25}}\n";

        var (output, whole) = await RelayAsync(converter, Body, 10);

        output.Should().Be(Body.Replace("\"llama3.2\"", "\"gpt-4o-mini\"", StringComparison.Ordinal));
        whole.Should().BeTrue();
        (converter.PromptTokens, converter.CompletionTokens).Should().Be((20, 5));
        context.Response.ContentLength.Should().BeNull("the renamed body has another length");
    }

    [Fact]
    public async Task Convert_ResponsesStreamWithoutItsFinalEvent_IsNotWhole()
    {
        var (converter, _) = Begin(null, "text/event-stream");

        var (_, whole) = await RelayAsync(converter, "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"model\":\"m\",\"usage\":null}}\n\n", 4096);

        whole.Should().BeFalse("a stream cut before response.completed is not a whole answer");
    }

    [Fact]
    public async Task Convert_ErrorStatus_KeepsTheEnvelopesMessage()
    {
        var (converter, context) = Begin(null, "application/json", HttpStatusCode.BadRequest);

        await RelayAsync(converter, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"max_tokens is required and must be positive\"},\"request_id\":\"req_1\"}\n", 4096);

        context.Response.StatusCode.Should().Be(400);
        converter.Error.Should().Be("max_tokens is required and must be positive");
    }

    [Fact]
    public void Fail_Stream_WritesTheApisErrorEvent_JsonAnswerIsCut()
    {
        var (stream, _) = Begin(null, "text/event-stream");
        var (json, _) = Begin(null, "application/json");
        var output = new ArrayBufferWriter<byte>();

        stream.Fail("the backend broke off", output).Should().BeTrue();
        json.Fail("the backend broke off", new ArrayBufferWriter<byte>()).Should().BeFalse("half a JSON body cannot be ended sensibly");

        Encoding.UTF8.GetString(output.WrittenSpan).Should().Be("event: error\ndata: the backend broke off\n\n");
        stream.Error.Should().Be("the backend broke off");
    }
}
