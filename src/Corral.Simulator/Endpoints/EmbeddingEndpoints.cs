using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Corral.Simulator.Http;
using Corral.Simulator.Models;
using Corral.Simulator.Scheduling;
using Microsoft.AspNetCore.Http;

namespace Corral.Simulator.Endpoints;

/// <summary><c>POST /api/embed</c> and the legacy <c>POST /api/embeddings</c>.</summary>
internal sealed class EmbeddingEndpoints
{
    /// <summary>all-minilm's width; every simulated model embeds into this many dimensions.</summary>
    public const int Dimensions = 384;

    private readonly SimulatedOllama _simulator;

    public EmbeddingEndpoints(SimulatedOllama simulator)
    {
        _simulator = simulator;
    }

    /// <summary>A deterministic, L2-normalised vector for <paramref name="text"/> (seeded from its SHA-256).</summary>
    public static float[] Vector(string text, int dimensions)
    {
        var seed = BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var state = seed | 1;
        var vector = new float[Dimensions];
        for (var i = 0; i < vector.Length; i++)
        {
            // xorshift64*: cheap, deterministic, spread over [-1, 1).
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            vector[i] = (float)((state * 2685821657736338717UL >> 11) / (double)(1UL << 53) * 2 - 1);
        }

        var length = dimensions is > 0 and < Dimensions ? dimensions : Dimensions;
        var result = vector.AsSpan(0, length).ToArray();
        var norm = 0.0;
        foreach (var x in result)
        {
            norm += x * x;
        }

        norm = Math.Sqrt(norm);
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = (float)(result[i] / norm);
        }

        return result;
    }

    public async Task EmbedAsync(SimRequest request)
    {
        var body = RequestBody.Parse(request.Body, "EmbedRequest");
        var name = body.GetString("model") ?? string.Empty;
        var keepAlive = ReadKeepAlive(body);
        var dimensions = (int)(body.GetInt("dimensions") ?? 0);
        var inputs = new List<string>();
        switch (body.Get("input"))
        {
            case null:
                break;
            case { ValueKind: JsonValueKind.String } single:
                if (single.GetString() is { Length: > 0 } text)
                {
                    inputs.Add(text);
                }

                break;
            case { ValueKind: JsonValueKind.Array } many:
                foreach (var item in many.EnumerateArray())
                {
                    inputs.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw ApiError.BadRequest("invalid input type"));
                }

                break;
            default:
                throw ApiError.BadRequest("invalid input type");
        }

        var model = FindModel(name);
        using var lease = await AcquireAsync(request, model, keepAlive).ConfigureAwait(false);
        if (inputs.Count == 0)
        {
            await Responses.JsonAsync(request.Http, StatusCodes.Status200OK, w =>
            {
                w.WriteStartObject();
                w.WriteString("model", name);
                w.WriteStartArray("embeddings");
                w.WriteEndArray();
                w.WriteEndObject();
            }).ConfigureAwait(false);
            return;
        }

        var promptTokens = 0;
        var vectors = new List<float[]>(inputs.Count);
        foreach (var input in inputs)
        {
            promptTokens += 2 + TokenStream.Count(input);
            vectors.Add(Vector(input, dimensions));
        }

        var load = Math.Max(1, lease.LoadDuration.Ticks * 100);
        var total = Math.Max(_simulator.Time.GetElapsedTime(request.StartTimestamp).Ticks * 100, load + promptTokens * 100_000L);
        await Responses.JsonAsync(request.Http, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("model", name);
            w.WriteStartArray("embeddings");
            foreach (var vector in vectors)
            {
                w.WriteStartArray();
                foreach (var x in vector)
                {
                    w.WriteNumberValue(x);
                }

                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteNumber("total_duration", total);
            w.WriteNumber("load_duration", load);
            w.WriteNumber("prompt_eval_count", promptTokens);
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    public async Task EmbeddingsAsync(SimRequest request)
    {
        var body = RequestBody.Parse(request.Body, "EmbeddingRequest");
        var name = body.GetString("model") ?? string.Empty;
        var prompt = body.GetString("prompt") ?? string.Empty;
        var keepAlive = ReadKeepAlive(body);
        var model = FindModel(name);
        using var lease = await AcquireAsync(request, model, keepAlive).ConfigureAwait(false);
        var vector = prompt.Length == 0 ? [] : Vector(prompt, Dimensions);
        await Responses.JsonAsync(request.Http, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("embedding");
            foreach (var x in vector)
            {
                // The legacy endpoint answers float64s.
                w.WriteNumberValue((double)x);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private static TimeSpan? ReadKeepAlive(RequestBody body)
    {
        if (body.Get("keep_alive") is not { } value)
        {
            return null;
        }

        return KeepAlive.TryParse(value, out var keepAlive, out var error) ? keepAlive : throw ApiError.BadRequest(error);
    }

    private LocalModel FindModel(string name) =>
        _simulator.Registry.Find(name) ?? throw ApiError.NotFound($"model {GoText.Quote(name)} not found, try pulling it first");

    private async Task<RunnerLease> AcquireAsync(SimRequest request, LocalModel model, TimeSpan? keepAlive) =>
        await _simulator.Scheduler.AcquireAsync(model, keepAlive ?? _simulator.Options.DefaultKeepAlive, request.Cancellation).ConfigureAwait(false)
            ?? throw new ApiError(StatusCodes.Status503ServiceUnavailable, Scheduler.ServerBusy);
}
