using System.Text.Json;

namespace Corral.Simulator.Http;

/// <summary>
/// A JSON request body read the way Go's encoding/json reads it into an Ollama request struct:
/// field names match case-insensitively, an empty body is "missing request body", and type
/// mismatches produce Go's message.
/// </summary>
internal sealed class RequestBody
{
    private readonly JsonElement _root;
    private readonly string _goType;

    private RequestBody(JsonElement root, string goType)
    {
        _root = root;
        _goType = goType;
    }

    public static RequestBody Parse(byte[] body, string goType)
    {
        if (body.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            throw ApiError.BadRequest("missing request body");
        }

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest(SyntaxMessage(body, e));
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            if (root.ValueKind == JsonValueKind.Null)
            {
                return new RequestBody(JsonDocument.Parse("{}").RootElement.Clone(), goType);
            }

            throw ApiError.BadRequest($"json: cannot unmarshal {Kind(root)} into Go value of type api.{goType}");
        }

        return new RequestBody(root, goType);
    }

    /// <summary>The <c>model</c> (or <c>name</c>) string of a JSON object body, for the journal; null otherwise.</summary>
    public static string? PeekModel(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var name in (ReadOnlySpan<string>)["model", "name"])
            {
                if (document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString();
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    /// <summary>The field's value, absent when missing or null (Go leaves null fields unset).</summary>
    public JsonElement? Get(string name)
    {
        JsonElement? caseInsensitive = null;
        foreach (var property in _root.EnumerateObject())
        {
            if (property.NameEquals(name))
            {
                caseInsensitive = property.Value;
                break;
            }

            if (caseInsensitive is null && string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                caseInsensitive = property.Value;
            }
        }

        return caseInsensitive is { ValueKind: not JsonValueKind.Null } value ? value : null;
    }

    public string? GetString(string name)
    {
        var value = Get(name);
        return value switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } v => v.GetString(),
            { } v => throw Mismatch(v, name, "string"),
        };
    }

    public bool? GetBool(string name)
    {
        var value = Get(name);
        return value switch
        {
            null => null,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            { } v => throw Mismatch(v, name, "bool"),
        };
    }

    public long? GetInt(string name)
    {
        var value = Get(name);
        return value switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } v when v.TryGetInt64(out var n) => n,
            { } v => throw Mismatch(v, name, "int"),
        };
    }

    public JsonElement? GetObject(string name, string goType)
    {
        var value = Get(name);
        return value switch
        {
            null => null,
            { ValueKind: JsonValueKind.Object } v => v,
            { } v => throw Mismatch(v, name, goType),
        };
    }

    public JsonElement? GetArray(string name, string goType)
    {
        var value = Get(name);
        return value switch
        {
            null => null,
            { ValueKind: JsonValueKind.Array } v => v,
            { } v => throw Mismatch(v, name, goType),
        };
    }

    /// <summary>Reads a property of a nested object case-insensitively, like <see cref="Get"/>.</summary>
    public static JsonElement? Property(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        JsonElement? found = null;
        foreach (var property in obj.EnumerateObject())
        {
            if (property.NameEquals(name))
            {
                return property.Value.ValueKind == JsonValueKind.Null ? null : property.Value;
            }

            if (found is null && string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                found = property.Value;
            }
        }

        return found is { ValueKind: not JsonValueKind.Null } value ? value : null;
    }

    public static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Array => "array",
        JsonValueKind.Object => "object",
        _ => "null",
    };

    private ApiError Mismatch(JsonElement value, string field, string goType) =>
        ApiError.BadRequest($"json: cannot unmarshal {Kind(value)} into Go struct field {_goType}.{field} of type {goType}");

    private static string SyntaxMessage(byte[] body, JsonException e)
    {
        // Go reports the offending character; find it from the line/byte position System.Text.Json gives.
        var offset = 0L;
        var line = e.LineNumber ?? 0;
        for (var i = 0; i < body.Length && line > 0; i++)
        {
            if (body[i] == '\n')
            {
                line--;
                offset = i + 1;
            }
        }

        offset += e.BytePositionInLine ?? 0;
        if (offset >= body.Length)
        {
            return "unexpected EOF";
        }

        var c = (char)body[offset];
        var shown = c is >= ' ' and < (char)127 ? c.ToString() : "\\x" + ((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture);
        return $"invalid character '{shown}' looking for beginning of value";
    }
}
