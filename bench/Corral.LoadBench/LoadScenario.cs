namespace Corral.LoadBench;

/// <summary>One request shape of the side-by-side runs.</summary>
/// <param name="Name">Short id, used in file names and JSON.</param>
/// <param name="Title">Heading of its table.</param>
/// <param name="Method">GET or POST.</param>
/// <param name="Path">Request path.</param>
/// <param name="Body">JSON body of a POST.</param>
/// <param name="CorralOnly">Only Corral serves it (the OpenAI surface): no direct or nginx figures.</param>
/// <param name="Note">What to know when reading its table.</param>
internal sealed record LoadScenario(string Name, string Title, string Method, string Path, string? Body, bool CorralOnly, string? Note = null)
{
    public static IReadOnlyList<LoadScenario> All { get; } =
    [
        new("tags", "GET /api/tags", "GET", "/api/tags", null, CorralOnly: false,
            "Corral answers from its merged catalog (rebuilt in the background every --catalog-ttl, 10 s) without calling the backend; nginx forwards every request. This compares serving the fleet's list, not proxying."),
        new("chat", "POST /api/chat, not streamed", "POST", "/api/chat", FakeAnswers.ChatRequest, CorralOnly: false),
        new("generate-stream", "POST /api/generate, streamed (32 NDJSON lines)", "POST", "/api/generate", FakeAnswers.GenerateRequest, CorralOnly: false,
            "The fake backend sends the 32 lines (3 KB) at once, chunked: this measures relaying a stream at full speed, not at model speed (see below)."),
        new("openai-chat-stream", "POST /v1/chat/completions, streamed (Corral only)", "POST", "/v1/chat/completions", FakeAnswers.OpenAiStreamRequest, CorralOnly: true,
            "Corral asks a second fake backend (same nginx, another port) for /api/chat with \"stream\":true, 32 NDJSON lines, and converts each into an OpenAI chat.completion.chunk frame; nginx has no equivalent."),
    ];
}
