using System.Buffers;
using System.Text.Json;

namespace Corral.Forwarding;

/// <summary>
/// Puts the name the client asked for in the top-level <c>model</c> field of each line of a native answer (or of
/// its one JSON body), then hands the line to <paramref name="inner"/>: a preset runs on its base, and the backend
/// names the base, but answers name the model as the client asked for it. A line split across reads is joined
/// first; a line that is not JSON passes as it is.
/// </summary>
internal sealed class ModelRenamingConverter(IRelayConverter inner, string model) : DelegatingConverter(inner)
{
    private readonly byte[] _model = JsonSerializer.SerializeToUtf8Bytes(model, JsonRequestBodyJson.Default.String);
    private readonly LineSplitter _lines = new();
    private LineHandler? _handler;

    // Made once, on the first chunk: a method group would allocate a delegate per call.
    private LineHandler Handler => _handler ??= Line;

    public override void Begin(HttpContext context, HttpResponseMessage upstream)
    {
        base.Begin(context, upstream);
        // The name may be longer or shorter than the backend's: the backend's length no longer holds.
        context.Response.ContentLength = null;
    }

    public override void Convert(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output) => _lines.Split(chunk, output, Handler);

    public override ValueTask<bool> CompleteAsync(HttpContext? context, IBufferWriter<byte> output)
    {
        _lines.Flush(output, Handler);
        return base.CompleteAsync(context, output);
    }

    private void Line(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        if (Inner.Finished)
        {
            return;
        }

        if (ModelValue(line) is not { } value)
        {
            Inner.Convert(line, output);
            return;
        }

        var renamed = new byte[line.Length - value.End.Value + value.Start.Value + _model.Length];
        line[..value.Start.Value].CopyTo(renamed);
        _model.CopyTo(renamed.AsSpan(value.Start.Value));
        line[value.End.Value..].CopyTo(renamed.AsSpan(value.Start.Value + _model.Length));
        Inner.Convert(renamed, output);
    }

    // Where the top-level "model" string of a JSON object line is, quotes included; null when there is none.
    private static Range? ModelValue(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isModel = reader.ValueTextEquals("model"u8);
                reader.Read();
                if (isModel && reader.TokenType == JsonTokenType.String)
                {
                    return (int)reader.TokenStartIndex..(int)reader.BytesConsumed;
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }
}
