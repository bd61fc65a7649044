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
        Write(sb, value, null, withProtocolValues);
        return sb.ToString();
    }

    private static bool IsProtocolKey(string? key) => key is "error" or "done" or "done_reason" or "role";

    private static void Write(StringBuilder sb, JsonElement value, string? key, bool withValues)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                sb.Append('{');
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    sb.Append(property.Name).Append(':');
                    Write(sb, property.Value, property.Name, withValues);
                    sb.Append(',');
                }

                sb.Append('}');
                break;
            case JsonValueKind.Array:
                var elements = value.EnumerateArray().Select(e => Of(e, withValues)).Distinct().Order(StringComparer.Ordinal);
                sb.Append('[').AppendJoin('|', elements).Append(']');
                break;
            case JsonValueKind.True or JsonValueKind.False:
                sb.Append(withValues && IsProtocolKey(key) ? value.GetRawText() : "bool");
                break;
            case JsonValueKind.String:
                sb.Append(withValues && IsProtocolKey(key) ? value.GetRawText() : "string");
                break;
            default:
                sb.Append(value.ValueKind.ToString().ToLowerInvariant());
                break;
        }
    }
}
