using System.Text;
using Corral.Forwarding;

namespace Corral.Tests.Forwarding;

public sealed class TokenScannerTests
{
    private const string StreamEnd =
        "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T12:00:00.1Z\",\"response\":\"!\",\"done\":false}\n"
        + "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T12:00:00.2Z\",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\","
        + "\"total_duration\":123456789,\"load_duration\":1234,\"prompt_eval_count\":26,\"prompt_eval_duration\":999,\"eval_count\":298,\"eval_duration\":4567}\n";

    private const string ChatAnswer =
        "{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\",\"content\":\"I said \\\"eval_count\\\":5 and \\\"prompt_eval_count\\\": 7\"},"
        + "\"done\":true,\"prompt_eval_count\": 1031,\"eval_count\" : 12}";

    private static TokenScanner Scan(string text, params int[] cuts)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var scanner = default(TokenScanner);
        var start = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            scanner.Scan(bytes.AsSpan(start, cut - start));
            start = cut;
        }

        return scanner;
    }

    [Fact]
    public void Scan_StreamInOneChunk_CountsOfTheFinalLine()
    {
        var scanner = Scan(StreamEnd);

        scanner.PromptTokens.Should().Be(26);
        scanner.CompletionTokens.Should().Be(298);
        scanner.Error.Should().BeNull();
    }

    [Fact]
    public void Scan_SplitAtEveryPosition_SameCounts()
    {
        for (var cut = 1; cut < StreamEnd.Length; cut++)
        {
            var scanner = Scan(StreamEnd, cut);
            (scanner.PromptTokens, scanner.CompletionTokens).Should().Be((26, 298), $"the stream was cut at byte {cut}");
        }
    }

    [Fact]
    public void Scan_OneByteAtATime_SameCounts()
    {
        var scanner = Scan(StreamEnd, Enumerable.Range(1, StreamEnd.Length - 1).ToArray());

        (scanner.PromptTokens, scanner.CompletionTokens).Should().Be((26, 298));
    }

    [Fact]
    public void Scan_KeysQuotedInsideTheContent_Ignored()
    {
        for (var cut = 1; cut < ChatAnswer.Length; cut++)
        {
            var scanner = Scan(ChatAnswer, cut);
            (scanner.PromptTokens, scanner.CompletionTokens).Should().Be((1031, 12), $"the answer was cut at byte {cut}");
        }
    }

    [Fact]
    public void Scan_AnswerWithoutMetrics_NoTokens()
    {
        var scanner = Scan("{\"embedding\":[0.1,0.2]}");

        (scanner.PromptTokens, scanner.CompletionTokens).Should().Be((0, 0));
    }

    [Fact]
    public void Scan_ErrorLineInAStream_ErrorKept()
    {
        var scanner = Scan("{\"response\":\"a\",\"done\":false}\n{\"error\":\"an error was encountered while running the model\"}\n");

        scanner.Error.Should().Be("an error was encountered while running the model");
    }
}
