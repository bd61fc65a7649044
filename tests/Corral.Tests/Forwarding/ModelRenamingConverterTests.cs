using System.Buffers;
using System.Text;
using Corral.Forwarding;
using Microsoft.AspNetCore.Http;

namespace Corral.Tests.Forwarding;

public sealed class ModelRenamingConverterTests
{
    private sealed class Collecting : IRelayConverter
    {
        public bool Streams => true;

        public bool Finished => false;

        public int PromptTokens => 0;

        public int CompletionTokens => 0;

        public string? Error => null;

        public void Begin(HttpContext context, HttpResponseMessage upstream)
        {
        }

        public void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output) => output.Write(chunk);

        public ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output) => ValueTask.FromResult(true);

        public bool Fail(string message, IBufferWriter<byte> output) => false;
    }

    private static async Task<string> RenameAsync(params string[] chunks)
    {
        var converter = new ModelRenamingConverter(new Collecting(), "support-bot");
        var output = new ArrayBufferWriter<byte>();
        foreach (var chunk in chunks)
        {
            converter.Convert(Encoding.UTF8.GetBytes(chunk), output);
        }

        await converter.CompleteAsync(null, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public async Task Convert_LinesSplitAcrossReads_EachTopLevelModelRenamed()
    {
        var renamed = await RenameAsync("{\"model\":\"llama3.2\",\"message\":{\"model\":\"inner\"}}\n{\"mo", "del\":\"llama3.2\",\"done\":true}\n");

        renamed.Should().Be("{\"model\":\"support-bot\",\"message\":{\"model\":\"inner\"}}\n{\"model\":\"support-bot\",\"done\":true}\n");
    }

    [Fact]
    public async Task Convert_OneBodyWithoutNewline_RenamedAtTheEnd()
    {
        (await RenameAsync("{\"done\":true,", "\"model\":\"llama3.2:latest\"}")).Should().Be("{\"done\":true,\"model\":\"support-bot\"}");
    }

    [Fact]
    public async Task Convert_NotJsonOrNoModel_PassesAsItIs()
    {
        (await RenameAsync("not json\n{\"error\":\"boom\"}\n")).Should().Be("not json\n{\"error\":\"boom\"}\n");
    }
}
