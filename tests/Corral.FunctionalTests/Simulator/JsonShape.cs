using System.Text;
using System.Text.Json;

namespace Corral.FunctionalTests.Simulator;

/// <summary>
/// A JSON value's shape: object keys (recursively), value kinds and array element shapes, with values
/// ignored except for the few keys whose values are part of the protocol.
/// </summary>
internal static class JsonShape
{
    public static string Of(JsonElement value, bool withProtocolValues = true)
    {
        var sb = new StringBuilder();
        Write(sb, value, null, withProtocolValues, surface: false);
        return sb.ToString();
    }

    /// <summary>The shape of a compatible surface's JSON, where <c>type</c>, <c>status</c>, <c>object</c> and <c>stop_reason</c> values are protocol too.</summary>
    public static string OfSurface(JsonElement value)
    {
        var sb = new StringBuilder();
        Write(sb, value, null, withValues: true, surface: true);
        return sb.ToString();
    }

    private static bool IsProtocolKey(string? key, bool surface) =>
        key is "error" or "done" or "done_reason" or "role" || (surface && key is "type" or "status" or "object" or "stop_reason");

    private static void Write(StringBuilder sb, JsonElement value, string? key, bool withValues, bool surface)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    sb.Append(property.Name).Append(':');
                    Write(sb, property.Value, property.Name, withValues, surface);
                    sb.Append(',');
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                var elements = value.EnumerateArray().Select(e =>
                {
                    var element = new StringBuilder();
                    Write(element, e, null, withValues, surface);
                    return element.ToString();
                }).Distinct().Order(StringComparer.Ordinal);
                sb.Append('[').AppendJoin('|', elements).Append(']');
                break;
            case JsonValueKind.True or JsonValueKind.False:
                sb.Append(withValues && IsProtocolKey(key, surface) ? value.GetRawText() : "bool");
                break;
            case JsonValueKind.String:
                sb.Append(withValues && IsProtocolKey(key, surface) ? value.GetRawText() : "string");
                break;
            default:
                sb.Append(value.ValueKind.ToString().ToLowerInvariant());
                break;
        }
    }
}
