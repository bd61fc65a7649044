using Corral.Usage;

namespace Corral.Bench;

/// <summary>
/// Usage records shaped like a busy gateway's, for the usage benchmarks: 40 keys, of which 4 are shared by Open WebUI
/// instances that name 30 end users between them; 24 models, each on 2 of 4 backends; each key with its few favourite
/// models and one or two routes; statuses mostly 200 (97%), some 499, 503, 404 and 500; log-normal durations and
/// times to first byte. Deterministic for a seed.
/// </summary>
internal sealed class SyntheticUsage
{
    private static readonly string[] s_models =
    [
        "llama3.2:latest", "llama3.1:8b", "llama3.3:70b", "qwen3:8b", "qwen3:32b", "qwen2.5-coder:7b", "gemma3:4b", "gemma3:27b",
        "mistral:latest", "mistral-small3.1:24b", "phi4:latest", "phi4-mini:latest", "deepseek-r1:8b", "deepseek-r1:32b",
        "gpt-oss:20b", "gpt-oss:120b", "codellama:13b", "llava:7b", "nomic-embed-text:latest", "all-minilm:latest",
        "mxbai-embed-large:latest", "granite3.3:8b", "smollm2:1.7b", "olmo2:13b",
    ];

    private static readonly string[] s_backends = ["gpu1", "gpu2", "gpu3", "gpu4"];
    private static readonly string[] s_routes = ["/api/chat", "/v1/chat/completions", "/api/generate", "/api/embed"];

    private readonly Random _random;
    private readonly Key[] _keys;

    public SyntheticUsage(int seed = 42)
    {
        _random = new Random(seed);
        _keys = new Key[40];
        var userNumber = 0;
        for (var i = 0; i < _keys.Length; i++)
        {
            var shared = i < 4;
            var users = shared ? Enumerable.Range(0, i == 0 ? 12 : 6).Select(_ => $"user{userNumber++:00}@example.com").ToArray() : [];
            var models = Enumerable.Range(0, _random.Next(3, 7)).Select(_ => _random.Next(s_models.Length)).Distinct().ToArray();
            var routes = Enumerable.Range(0, _random.Next(1, 3)).Select(_ => _random.Next(s_routes.Length)).Distinct().ToArray();
            _keys[i] = new Key($"key_{i:00}{(char)('a' + (i % 26))}", shared ? $"open-webui-{i}" : $"app-{i:00}", users, models, routes);
        }
    }

    /// <summary>The record of a request that started at <paramref name="time"/>.</summary>
    public UsageRecord Next(DateTimeOffset time)
    {
        // A few keys carry most traffic (the shared ones first).
        var key = _keys[(int)(Math.Pow(_random.NextDouble(), 2) * _keys.Length)];
        var model = key.Models[(int)(Math.Pow(_random.NextDouble(), 1.5) * key.Models.Length)];
        var route = s_routes[key.Routes[_random.Next(key.Routes.Length)]];
        var embedding = route == "/api/embed";
        var roll = _random.NextDouble();
        var status = roll < 0.97 ? 200 : roll < 0.98 ? 499 : roll < 0.99 ? 503 : roll < 0.995 ? 404 : 500;
        var answered = status is 200 or 499;
        var backend = status == 404 ? null : s_backends[(model + _random.Next(2)) % s_backends.Length];
        var ttft = answered ? LogNormal(embedding ? 30 : 400, 0.8) : (double?)null;
        var duration = (ttft ?? 1) + (embedding ? LogNormal(20, 0.5) : answered ? LogNormal(3000, 1) : LogNormal(5, 0.5));
        var completion = embedding || !answered ? 0 : (int)(duration / 25);
        return new UsageRecord
        {
            Time = time,
            KeyId = key.Id,
            KeyName = key.Name,
            User = key.Users.Length > 0 ? key.Users[_random.Next(key.Users.Length)] : null,
            Route = route,
            Model = s_models[model].Replace(":latest", string.Empty, StringComparison.Ordinal),
            ResolvedModel = status == 404 ? null : s_models[model],
            Backend = backend,
            Status = status,
            Error = status switch { 404 => "model not found", 500 => "backend error", 503 => "server busy, please try again.  maximum pending requests exceeded", _ => null },
            PromptTokens = answered ? _random.Next(20, 2000) : 0,
            CompletionTokens = completion,
            QueueMs = _random.NextDouble() < 0.1 ? LogNormal(200, 1) : 0,
            TtftMs = ttft,
            DurationMs = duration,
            OverheadMs = 0.05 + (_random.NextDouble() * 0.1),
            BytesIn = _random.Next(200, 20_000),
            BytesOut = answered ? _random.Next(300, 40_000) : 80,
            Attempts = backend is null ? 0 : 1,
            Cancelled = status == 499,
        };
    }

    private double LogNormal(double median, double sigma)
    {
        // Box-Muller.
        var normal = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
        return median * Math.Exp(sigma * normal);
    }

    private sealed record Key(string Id, string Name, string[] Users, int[] Models, int[] Routes);
}
