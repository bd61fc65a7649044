namespace Corral.Simulator;

/// <summary>The simulator's deterministic "model output": fixed texts cut into one-word tokens.</summary>
internal static class TokenStream
{
    /// <summary>Tokens of an answer that ends on its own (done_reason "stop").</summary>
    public const int DefaultLength = 12;

    private static readonly string[] s_sentence = Split(firstHasSpace: false, text: "The sky is blue because air scatters blue sunlight the most .");

    private static readonly string[] s_continuation = Split(
        firstHasSpace: true,
        text: "Shorter wavelengths bounce off the gas molecules of the atmosphere in every direction , so blue light reaches your eyes from all over the sky . "
        + "At sunset the light crosses more air , the blue is scattered away , and reds and oranges remain .");

    private static readonly string[] s_thinkingTokens = Split(firstHasSpace: false, text: "Okay , the user asks a simple question . Let me answer it briefly .");

    public static IReadOnlyList<string> Thinking => s_thinkingTokens;

    /// <summary>The answer's tokens: the natural answer, or exactly <paramref name="limit"/> tokens when one is given.</summary>
    public static IReadOnlyList<string> Text(int? limit)
    {
        if (limit is not > 0)
        {
            return s_sentence;
        }

        var tokens = new List<string>(limit.Value);
        for (var i = 0; tokens.Count < limit.Value; i++)
        {
            tokens.Add(i < s_sentence.Length ? s_sentence[i] : s_continuation[(i - s_sentence.Length) % s_continuation.Length]);
        }

        return tokens;
    }

    /// <summary>A JSON answer for a <c>format</c> request, e.g. <c>{"answer": "The sky ..."}</c>, cut at <paramref name="limit"/> tokens.</summary>
    public static IReadOnlyList<string> Json(string property, string? type, int? limit)
    {
        var tokens = new List<string> { "{\"", property, "\":" };
        switch (type)
        {
            case "number" or "integer":
                tokens.Add(" 42");
                break;
            case "boolean":
                tokens.Add(" true");
                break;
            default:
                tokens.Add(" \"");
                tokens.AddRange(s_sentence);
                tokens.Add("\"");
                break;
        }

        tokens.Add("}");
        return limit is > 0 && limit.Value < tokens.Count ? tokens.GetRange(0, limit.Value) : tokens;
    }

    /// <summary>Rough token count of a text, as a prompt_eval_count ingredient (about four characters a token).</summary>
    public static int Count(string? text) => string.IsNullOrEmpty(text) ? 0 : (text.Length + 3) / 4;

    private static string[] Split(bool firstHasSpace, string text)
    {
        // Words carry their leading space, like a tokenizer's output; punctuation sticks to nothing.
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var tokens = new string[words.Length];
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            tokens[i] = (i == 0 && !firstHasSpace) || word is "." or "," ? word : " " + word;
        }

        return tokens;
    }
}
