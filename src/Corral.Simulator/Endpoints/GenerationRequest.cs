using System.Text.Json;
using Corral.Simulator.Http;
using Corral.Simulator.Models;

namespace Corral.Simulator.Endpoints;

/// <summary>The fields /api/generate and /api/chat share, validated the way Ollama validates them.</summary>
internal sealed record GenerationRequest
{
    private static readonly string[] s_thinkLevels = ["high", "medium", "low", "max"];

    public required string Model { get; init; }

    public required bool Stream { get; init; }

    /// <summary>The request's keep_alive, or null to use the server default.</summary>
    public TimeSpan? KeepAlive { get; init; }

    /// <summary>null: not given; true/false; levels count as true.</summary>
    public bool? Think { get; init; }

    public int? NumPredict { get; init; }

    /// <summary>The property a <c>format</c> answer fills, or null without <c>format</c>.</summary>
    public string? FormatProperty { get; init; }

    public string? FormatType { get; init; }

    public static GenerationRequest Read(RequestBody body, string goType)
    {
        var model = body.GetString("model") ?? string.Empty;
        var stream = body.GetBool("stream") ?? true;

        TimeSpan? keepAlive = null;
        if (body.Get("keep_alive") is { } keepAliveValue)
        {
            if (!Models.KeepAlive.TryParse(keepAliveValue, out var parsed, out var error))
            {
                throw ApiError.BadRequest(error);
            }

            keepAlive = parsed;
        }

        bool? think = body.Get("think") switch
        {
            null => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            { ValueKind: JsonValueKind.String } v when s_thinkLevels.Contains(v.GetString()) => true,
            { } v => throw ApiError.BadRequest($"invalid think value: {v.GetRawText()} (must be \"high\", \"medium\", \"low\", true, or false)"),
        };

        int? numPredict = null;
        if (body.GetObject("options", "map[string]interface {}") is { } options
            && RequestBody.Property(options, "num_predict") is { ValueKind: JsonValueKind.Number } limit
            && limit.TryGetDouble(out var limitValue))
        {
            numPredict = (int)Math.Clamp(limitValue, int.MinValue, int.MaxValue);
        }

        if (body.GetInt("top_logprobs") is { } topLogprobs && topLogprobs is < 0 or > 20)
        {
            throw ApiError.BadRequest("top_logprobs must be between 0 and 20");
        }

        string? formatProperty = null;
        string? formatType = null;
        switch (body.Get("format"))
        {
            case null:
                break;
            case { ValueKind: JsonValueKind.String } format when format.GetString() is "":
                break;
            case { ValueKind: JsonValueKind.String } format when format.GetString() is "json":
                formatProperty = "answer";
                break;
            case { ValueKind: JsonValueKind.Object } schema:
                formatProperty = "answer";
                if (RequestBody.Property(schema, "properties") is { ValueKind: JsonValueKind.Object } properties)
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        formatProperty = property.Name;
                        formatType = RequestBody.Property(property.Value, "type") is { ValueKind: JsonValueKind.String } type ? type.GetString() : null;
                        break;
                    }
                }

                break;
            default:
                throw ApiError.BadRequest("invalid format: expected \"json\" or a valid JSON schema");
        }

        return new GenerationRequest
        {
            Model = model,
            Stream = stream,
            KeepAlive = keepAlive,
            Think = think,
            NumPredict = numPredict,
            FormatProperty = formatProperty,
            FormatType = formatType,
        };
    }

    /// <summary>Ollama's checks before scheduling: the model exists and can do what is asked.</summary>
    public LocalModel FindModel(ModelRegistry registry, string capability)
    {
        var model = registry.Find(Model) ?? throw ApiError.NotFound($"model '{Model}' not found");
        if (!model.Traits.Capabilities.Contains("completion"))
        {
            throw ApiError.BadRequest($"{GoText.Quote(Model)} does not support {capability}");
        }

        if (Think == true && !model.Traits.CanThink)
        {
            throw ApiError.BadRequest($"{GoText.Quote(Model)} does not support thinking");
        }

        return model;
    }

    /// <summary>Thinking models think unless told not to (Ollama sets think=true for them).</summary>
    public bool Thinks(LocalModel model) => model.Traits.CanThink && Think != false;

    public IReadOnlyList<string> AnswerTokens() => FormatProperty is null
        ? TokenStream.Text(NumPredict)
        : TokenStream.Json(FormatProperty, FormatType, NumPredict);

    public string DoneReason(IReadOnlyList<string> tokens) =>
        NumPredict is > 0 && tokens.Count >= NumPredict.Value ? "length" : "stop";
}
