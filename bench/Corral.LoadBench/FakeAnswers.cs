using System.Text;

namespace Corral.LoadBench;

/// <summary>
/// The fixed answers of the fake Ollama backend (nginx <c>return 200</c>), shaped like a real Ollama's: a
/// three-model tag list, a ~400-byte non-streamed chat answer, and 32-line NDJSON streams for generate and chat.
/// None contains <c>$</c>, <c>\</c> or <c>'</c>, so each fits in a single-quoted nginx string as it is.
/// </summary>
internal static class FakeAnswers
{
    public const string Model = "llama3.2";

    // Declared before the streams that are built from it (static fields initialise in order).
    private static readonly string[] s_words = "The sky is blue because air scatters blue sunlight the most . Shorter wavelengths bounce off the gas molecules of the atmosphere in every direction , so blue light reaches your eyes".Split(' ');

    public const int StreamLines = 32;

    public static readonly string Tags = """{"models":[""" + string.Join(',',
        TagEntry("llama3.2:latest", 2019393189, "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", "llama", "3.2B", "Q4_K_M"),
        TagEntry("qwen3:8b", 5225388164, "500a1f067a9f782620b40bee6f7b0c89e17ae61f686b92c24933e4ca4b2b8b41", "qwen3", "8.2B", "Q4_K_M"),
        TagEntry("nomic-embed-text:latest", 274302450, "0a109f422b47e3a30ba2b10eca18548e944e8a23073ee3f3e947efcf3c45e59f", "nomic-bert", "137M", "F16")) + "]}";

    public static readonly string Chat =
        """{"model":"llama3.2","created_at":"2025-10-01T09:15:02.418277312Z","message":{"role":"assistant","content":"The sky is blue because air molecules scatter the short blue wavelengths of sunlight far more than the red ones, so blue light reaches your eyes from every direction."},"done_reason":"stop","done":true,"total_duration":1183453204,"load_duration":20375612,"prompt_eval_count":31,"prompt_eval_duration":51622000,"eval_count":36,"eval_duration":1110538000}""";

    /// <summary>32 lines of <c>/api/generate</c>: 31 tokens and the final line with the metrics.</summary>
    public static readonly string GenerateStream = Stream(chat: false);

    /// <summary>32 lines of <c>/api/chat</c> with <c>"stream":true</c>, what Corral's /v1 translation asks for.</summary>
    public static readonly string ChatStream = Stream(chat: true);

    /// <summary>Ollama's <c>/v1/messages</c> answer to <see cref="MessagesRequest"/>: the same words as <see cref="Chat"/>, in Anthropic's shape.</summary>
    public const string Messages =
        """{"id":"msg_5f0d1c2b3a49876543210fed","type":"message","role":"assistant","model":"llama3.2","content":[{"type":"text","text":"The sky is blue because air molecules scatter the short blue wavelengths of sunlight far more than the red ones, so blue light reaches your eyes from every direction."}],"stop_reason":"end_turn","usage":{"input_tokens":31,"output_tokens":36}}""";

    public const string MessagesRequest = """{"model":"llama3.2","max_tokens":256,"messages":[{"role":"user","content":"Why is the sky blue?"}]}""";

    public const string ChatRequest = """{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":false}""";

    public const string GenerateRequest = """{"model":"llama3.2","prompt":"Why is the sky blue?"}""";

    public const string OpenAiStreamRequest = """{"model":"llama3.2","messages":[{"role":"user","content":"Why is the sky blue?"}],"stream":true}""";

    private static string TagEntry(string name, long size, string digest, string family, string parameters, string quantization) =>
        $$$"""{"name":"{{{name}}}","model":"{{{name}}}","modified_at":"2025-10-01T09:12:44.123456789Z","size":{{{size}}},"digest":"{{{digest}}}","details":{"parent_model":"","format":"gguf","family":"{{{family}}}","families":["{{{family}}}"],"parameter_size":"{{{parameters}}}","quantization_level":"{{{quantization}}}"}}""";

    private static string Stream(bool chat)
    {
        var text = new StringBuilder();
        for (var i = 0; i < StreamLines - 1; i++)
        {
            var word = s_words[i % s_words.Length];
            var token = i == 0 || word is "." or "," ? word : " " + word;
            var time = $"2025-10-01T09:15:02.{418277312 + i * 21_000_000:D9}Z";
            text.Append(chat
                ? $$"""{"model":"llama3.2","created_at":"{{time}}","message":{"role":"assistant","content":"{{token}}"},"done":false}"""
                : $$"""{"model":"llama3.2","created_at":"{{time}}","response":"{{token}}","done":false}""");
            text.Append('\n');
        }

        var metrics = "\"total_duration\":712455100,\"load_duration\":20375612,\"prompt_eval_count\":31,\"prompt_eval_duration\":51622000,\"eval_count\":31,\"eval_duration\":640457488";
        text.Append(chat
            ? $$$"""{"model":"llama3.2","created_at":"2025-10-01T09:15:03.101277312Z","message":{"role":"assistant","content":""},"done_reason":"stop","done":true,{{{metrics}}}}"""
            : $$$"""{"model":"llama3.2","created_at":"2025-10-01T09:15:03.101277312Z","response":"","done":true,"done_reason":"stop",{{{metrics}}}}""");
        text.Append('\n');
        return text.ToString();
    }
}
