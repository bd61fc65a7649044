using System.Text;
using System.Text.Json;
using Corral.Simulator.Http;
using Corral.Simulator.Models;
using Corral.Simulator.Scheduling;
using Corral.Simulator.Surfaces;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Endpoints;

/// <summary>
/// <c>POST /api/generate</c> and <c>POST /api/chat</c>; the compatible surfaces (<c>/v1/messages</c>, <c>/v1/responses</c>,
/// <c>/v1/audio/transcriptions</c>) run their translated request through the same chat generation.
/// </summary>
internal sealed class InferenceEndpoints
{
    private const string ToolCallIdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private readonly SimulatedOllama _simulator;

    public InferenceEndpoints(SimulatedOllama simulator)
    {
        _simulator = simulator;
    }

    public async Task GenerateAsync(SimRequest request)
    {
        var body = RequestBody.Parse(request.Body, "GenerateRequest");
        var common = GenerationRequest.Read(body, "GenerateRequest");
        var prompt = body.GetString("prompt") ?? string.Empty;
        var system = body.GetString("system") ?? string.Empty;
        var raw = body.GetBool("raw") ?? false;
        var hasImages = body.GetArray("images", "[]api.ImageData") is { } images && images.GetArrayLength() > 0;
        if (ModelName.Normalize(common.Model) is null)
        {
            throw ApiError.NotFound($"model '{common.Model}' not found");
        }

        if (raw && ((body.GetString("template") ?? string.Empty).Length > 0 || system.Length > 0 || body.GetArray("context", "[]int") is { } context && context.GetArrayLength() > 0))
        {
            throw ApiError.BadRequest("raw mode does not support template, system, or context");
        }

        var model = common.FindModel(_simulator.Registry, "generate");
        if (prompt.Length == 0 && !hasImages && common.KeepAlive == TimeSpan.Zero)
        {
            _simulator.Scheduler.Expire(model);
            await WriteLoadAnswerAsync(request, common.Model, chat: false, "unload").ConfigureAwait(false);
            return;
        }

        using var lease = await AcquireAsync(request, model, common).ConfigureAwait(false);
        if (prompt.Length == 0 && !hasImages)
        {
            await WriteLoadAnswerAsync(request, common.Model, chat: false, "load").ConfigureAwait(false);
            return;
        }

        var answer = new Answer
        {
            Chat = false,
            Model = common.Model,
            Thinking = common.Thinks(model) ? TokenStream.Thinking : [],
            Content = common.AnswerTokens(),
            PromptTokens = 8 + TokenStream.Count(system) + Math.Max(1, TokenStream.Count(prompt)),
            Context = !raw,
        };
        answer.DoneReason = common.DoneReason(answer.Content);
        await AnswerAsync(request, answer, common.Stream, lease).ConfigureAwait(false);
    }

    public Task ChatAsync(SimRequest request) => ChatAsync(request, request.Body, surface: null);

    /// <summary>
    /// Ollama's ChatHandler for <paramref name="chatBody"/>, an /api/chat request; with a <paramref name="surface"/> the
    /// answer goes to it (as Ollama's middleware wraps gin's writer) instead of being written as NDJSON or JSON.
    /// </summary>
    public async Task ChatAsync(SimRequest request, byte[] chatBody, ChatSurface? surface)
    {
        var body = RequestBody.Parse(chatBody, "ChatRequest");
        var common = GenerationRequest.Read(body, "ChatRequest");
        if (common.Model.Length == 0)
        {
            throw ApiError.BadRequest("model is required");
        }

        var messages = body.GetArray("messages", "[]api.Message");
        var promptTokens = 0;
        var lastRole = string.Empty;
        foreach (var message in messages?.EnumerateArray() ?? default)
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw ApiError.BadRequest($"json: cannot unmarshal {RequestBody.Kind(message)} into Go struct field ChatRequest.messages of type api.Message");
            }

            var content = RequestBody.Property(message, "content");
            if (content is { ValueKind: not JsonValueKind.String } badContent)
            {
                throw ApiError.BadRequest($"json: cannot unmarshal {RequestBody.Kind(badContent)} into Go struct field Message.messages.content of type string");
            }

            lastRole = (RequestBody.Property(message, "role") is { ValueKind: JsonValueKind.String } role ? role.GetString() ?? string.Empty : string.Empty).ToLowerInvariant();
            promptTokens += 5 + TokenStream.Count(content?.GetString());
        }

        var tools = body.GetArray("tools", "api.Tools");
        var model = _simulator.Registry.Find(common.Model) ?? throw ApiError.NotFound($"model '{common.Model}' not found");
        if (surface is { RelaxThinking: true } && common.Think == true && !model.Traits.CanThink)
        {
            // Ollama's "relax_thinking": the Anthropic surface drops think instead of refusing the request.
            common = common with { Think = null };
        }

        if (surface is { CapsNumPredict: true } && common.NumPredict is { } cap && (common with { NumPredict = null }).AnswerTokens().Count <= cap)
        {
            // A limit the surface always sends (Anthropic's max_tokens) is a cap, not a length: the answer ends on its own.
            common = common with { NumPredict = null };
        }

        var messageCount = messages?.GetArrayLength() ?? 0;
        if (messageCount == 0 && common.KeepAlive == TimeSpan.Zero)
        {
            _simulator.Scheduler.Expire(model);
            await WriteLoadAnswerAsync(request, common.Model, chat: true, "unload").ConfigureAwait(false);
            return;
        }

        common.FindModel(_simulator.Registry, "chat");
        var toolCount = tools?.GetArrayLength() ?? 0;
        if (toolCount > 0 && !model.Traits.Capabilities.Contains("tools"))
        {
            throw ApiError.BadRequest($"{GoText.Quote(common.Model)} does not support tools");
        }

        using var lease = await AcquireAsync(request, model, common).ConfigureAwait(false);
        if (messageCount == 0)
        {
            await (surface is null
                ? WriteLoadAnswerAsync(request, common.Model, chat: true, "load")
                : surface.DoneAsync(request, new ChatResult(common.Model, string.Empty, null, null, "load", 0, 0, _simulator.Time.GetUtcNow()))).ConfigureAwait(false);
            return;
        }

        var answer = new Answer
        {
            Chat = true,
            Model = common.Model,
            Thinking = common.Thinks(model) ? TokenStream.Thinking : [],
            PromptTokens = 10 + promptTokens + 40 * toolCount,
        };

        // With tools the model calls the first one; after a tool result it answers in words.
        if (toolCount > 0 && lastRole != "tool")
        {
            answer.ToolCall = ToolCallJson(tools!.Value[0]);
            answer.Content = [];
            answer.DoneReason = "stop";
        }
        else
        {
            answer.Content = common.AnswerTokens();
            answer.DoneReason = common.DoneReason(answer.Content);
        }

        await AnswerAsync(request, answer, common.Stream, lease, surface).ConfigureAwait(false);
    }

    private async Task<RunnerLease> AcquireAsync(SimRequest request, LocalModel model, GenerationRequest common)
    {
        var keepAlive = common.KeepAlive ?? _simulator.Options.DefaultKeepAlive;
        return await _simulator.Scheduler.AcquireAsync(model, keepAlive, request.Cancellation).ConfigureAwait(false)
            ?? throw new ApiError(StatusCodes.Status503ServiceUnavailable, Scheduler.ServerBusy);
    }

    private Task WriteLoadAnswerAsync(SimRequest request, string model, bool chat, string doneReason) =>
        Responses.JsonAsync(request.Http, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteString("created_at", Now());
            if (chat)
            {
                WriteMessage(w, string.Empty, null, null);
                w.WriteString("done_reason", doneReason);
                w.WriteBoolean("done", true);
            }
            else
            {
                w.WriteString("response", string.Empty);
                w.WriteBoolean("done", true);
                w.WriteString("done_reason", doneReason);
            }

            w.WriteEndObject();
        });

    private async Task AnswerAsync(SimRequest request, Answer answer, bool stream, RunnerLease lease, ChatSurface? surface = null)
    {
        var time = _simulator.Time;
        var lines = stream && surface is null ? new NdjsonStream(request) : null;
        var chunks = stream ? surface : null;
        var pace = _simulator.Options.TokensPerSecond;
        var evalStarted = time.GetTimestamp();
        var thinking = new StringBuilder();
        var content = new StringBuilder();

        var interval = pace > 0 ? TimeSpan.FromSeconds(1 / pace) : TimeSpan.Zero;
        var due = TimeSpan.Zero;

        // Tokens are due one interval apart on a fixed schedule, so timer overshoot does not slow the
        // average pace; after a stall longer than an interval the schedule restarts instead of bursting.
        async Task NextTokenAsync()
        {
            if (interval <= TimeSpan.Zero)
            {
                return;
            }

            due += interval;
            var wait = due - time.GetElapsedTime(evalStarted);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, request.Cancellation).ConfigureAwait(false);
            }

            var late = time.GetElapsedTime(evalStarted) - due;
            if (late >= interval)
            {
                due += late;
            }
        }

        foreach (var token in answer.Thinking)
        {
            await NextTokenAsync().ConfigureAwait(false);
            thinking.Append(token);
            if (lines is not null)
            {
                await lines.WriteLineAsync(w => WriteChunk(w, answer, string.Empty, token, null)).ConfigureAwait(false);
            }
            else if (chunks is not null)
            {
                await chunks.ChunkAsync(request, new ChatChunk(string.Empty, token, null)).ConfigureAwait(false);
            }
        }

        if (answer.ToolCall is not null)
        {
            await NextTokenAsync().ConfigureAwait(false);
            if (lines is not null)
            {
                await lines.WriteLineAsync(w => WriteChunk(w, answer, string.Empty, null, answer.ToolCall)).ConfigureAwait(false);
            }
            else if (chunks is not null)
            {
                await chunks.ChunkAsync(request, new ChatChunk(string.Empty, null, answer.ToolCall)).ConfigureAwait(false);
            }
        }

        foreach (var token in answer.Content)
        {
            await NextTokenAsync().ConfigureAwait(false);
            content.Append(token);
            if (lines is not null)
            {
                await lines.WriteLineAsync(w => WriteChunk(w, answer, token, null, null)).ConfigureAwait(false);
            }
            else if (chunks is not null)
            {
                await chunks.ChunkAsync(request, new ChatChunk(token, null, null)).ConfigureAwait(false);
            }
        }

        var evalCount = answer.Thinking.Count + answer.Content.Count + (answer.ToolCall is null ? 0 : 18);
        var metrics = new Metrics
        {
            LoadDuration = Math.Max(1, Nanoseconds(lease.LoadDuration)),
            PromptEvalCount = answer.PromptTokens,
            PromptEvalDuration = answer.PromptTokens * 250_000L,
            EvalCount = evalCount,
            EvalDuration = Math.Max(1, Nanoseconds(time.GetElapsedTime(evalStarted))),
        };
        metrics.TotalDuration = Math.Max(Nanoseconds(time.GetElapsedTime(request.StartTimestamp)), metrics.LoadDuration + metrics.PromptEvalDuration + metrics.EvalDuration);

        if (lines is not null)
        {
            await lines.WriteLineAsync(w => WriteFinal(w, answer, string.Empty, null, null, metrics)).ConfigureAwait(false);
            return;
        }

        if (surface is not null)
        {
            // Streamed, the done chunk carries only the metrics; otherwise the whole answer, as ChatHandler writes them.
            var done = chunks is not null
                ? new ChatResult(answer.Model, string.Empty, null, null, answer.DoneReason, metrics.PromptEvalCount, metrics.EvalCount, time.GetUtcNow())
                : new ChatResult(answer.Model, content.ToString(), thinking.Length > 0 ? thinking.ToString() : null, answer.ToolCall, answer.DoneReason, metrics.PromptEvalCount, metrics.EvalCount, time.GetUtcNow());
            await surface.DoneAsync(request, done).ConfigureAwait(false);
            return;
        }

        await Responses.JsonAsync(request.Http, StatusCodes.Status200OK, w =>
            WriteFinal(w, answer, content.ToString(), thinking.Length > 0 ? thinking.ToString() : null, answer.ToolCall, metrics)).ConfigureAwait(false);
    }

    private void WriteChunk(Utf8JsonWriter w, Answer answer, string content, string? thinking, byte[]? toolCall)
    {
        w.WriteStartObject();
        w.WriteString("model", answer.Model);
        w.WriteString("created_at", Now());
        if (answer.Chat)
        {
            WriteMessage(w, content, thinking, toolCall);
        }
        else
        {
            w.WriteString("response", content);
            if (thinking is not null)
            {
                w.WriteString("thinking", thinking);
            }
        }

        w.WriteBoolean("done", false);
        w.WriteEndObject();
    }

    private void WriteFinal(Utf8JsonWriter w, Answer answer, string content, string? thinking, byte[]? toolCall, Metrics metrics)
    {
        w.WriteStartObject();
        w.WriteString("model", answer.Model);
        w.WriteString("created_at", Now());
        if (answer.Chat)
        {
            WriteMessage(w, content, thinking, toolCall);
            w.WriteString("done_reason", answer.DoneReason);
            w.WriteBoolean("done", true);
        }
        else
        {
            w.WriteString("response", content);
            if (thinking is not null)
            {
                w.WriteString("thinking", thinking);
            }

            w.WriteBoolean("done", true);
            w.WriteString("done_reason", answer.DoneReason);
            if (answer.Context)
            {
                w.WriteStartArray("context");
                var seed = (uint)answer.Model.Length * 2654435761u;
                for (var i = 0; i < metrics.PromptEvalCount + metrics.EvalCount; i++)
                {
                    seed = seed * 1664525u + 1013904223u;
                    w.WriteNumberValue(1 + (seed >> 8) % 128_000);
                }

                w.WriteEndArray();
            }
        }

        w.WriteNonZero("total_duration", metrics.TotalDuration);
        w.WriteNonZero("load_duration", metrics.LoadDuration);
        w.WriteNonZero("prompt_eval_count", metrics.PromptEvalCount);
        w.WriteNonZero("prompt_eval_duration", metrics.PromptEvalDuration);
        w.WriteNonZero("eval_count", metrics.EvalCount);
        w.WriteNonZero("eval_duration", metrics.EvalDuration);
        w.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter w, string content, string? thinking, byte[]? toolCall)
    {
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", content);
        if (thinking is not null)
        {
            w.WriteString("thinking", thinking);
        }

        if (toolCall is not null)
        {
            w.WriteStartArray("tool_calls");
            w.WriteRawValue(toolCall, skipInputValidation: true);
            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    /// <summary>One call of <paramref name="tool"/> with "value" for each required parameter, as api.ToolCall JSON.</summary>
    private static byte[] ToolCallJson(JsonElement tool)
    {
        var function = RequestBody.Property(tool, "function");
        var name = function is { } f && RequestBody.Property(f, "name") is { ValueKind: JsonValueKind.String } n ? n.GetString() ?? string.Empty : string.Empty;
        var required = function is { } g && RequestBody.Property(g, "parameters") is { } parameters && RequestBody.Property(parameters, "required") is { ValueKind: JsonValueKind.Array } r
            ? r
            : (JsonElement?)null;
        return Responses.Serialize(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", "call_" + Random.Shared.GetString(ToolCallIdAlphabet, 8));
            w.WriteStartObject("function");
            w.WriteNumber("index", 0);
            w.WriteString("name", name);
            w.WriteStartObject("arguments");
            foreach (var parameter in required?.EnumerateArray() ?? default)
            {
                if (parameter.ValueKind == JsonValueKind.String)
                {
                    w.WriteString(parameter.GetString()!, "value");
                }
            }

            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }

    private static long Nanoseconds(TimeSpan duration) => duration.Ticks * 100;

    private string Now() => GoText.Rfc3339Nano(_simulator.Time.GetUtcNow());

    private sealed class Answer
    {
        public required bool Chat { get; init; }

        public required string Model { get; init; }

        public required IReadOnlyList<string> Thinking { get; init; }

        public IReadOnlyList<string> Content { get; set; } = [];

        public byte[]? ToolCall { get; set; }

        public string DoneReason { get; set; } = "stop";

        public required int PromptTokens { get; init; }

        public bool Context { get; init; }
    }

    private sealed class Metrics
    {
        public long TotalDuration { get; set; }

        public long LoadDuration { get; init; }

        public long PromptEvalCount { get; init; }

        public long PromptEvalDuration { get; init; }

        public long EvalCount { get; init; }

        public long EvalDuration { get; init; }
    }
}
