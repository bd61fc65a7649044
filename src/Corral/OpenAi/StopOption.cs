using System.Text.Json;

namespace Corral.OpenAi;

/// <summary>OpenAI's <c>stop</c> (a string or a list) as native <c>options.stop</c>, always a list.</summary>
internal static class StopOption
{
    /// <summary>Writes <c>"stop":[…]</c> when the request has one; an error text when it holds a non-string and those are refused.</summary>
    public static string? Write(Utf8JsonWriter writer, JsonElement request, bool rejectNonStrings)
    {
        switch (JsonKinds.Get(request, "stop"))
        {
            case { ValueKind: JsonValueKind.String } one:
                writer.WriteStartArray("stop");
                writer.WriteStringValue(one.GetString());
                writer.WriteEndArray();
                break;
            case { ValueKind: JsonValueKind.Array } many:
                if (rejectNonStrings && many.EnumerateArray().FirstOrDefault(i => i.ValueKind != JsonValueKind.String) is { ValueKind: not JsonValueKind.Undefined } bad)
                {
                    return $"invalid type for 'stop' field: {JsonKinds.GoType(bad.ValueKind)}";
                }

                writer.WriteStartArray("stop");
                foreach (var item in many.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String))
                {
                    writer.WriteStringValue(item.GetString());
                }

                writer.WriteEndArray();
                break;
        }

        return null;
    }
}
