using System.Text.Json;
using Corral.Hosting;

namespace Corral.Catalog;

/// <summary>
/// The one set of rules for a preset's JSON, whether it comes from the configuration file, an admin API body or
/// the store: every problem is reported with where it is, all at once. And the JSON written back.
/// </summary>
internal static class PresetDefinitions
{
    /// <summary>What a preset looks like, for error messages.</summary>
    public const string Example = """{"name":"support-bot","model":"llama3.2","system":"You answer questions about our product.","options":{"temperature":0.2}}""";

    private const int MaxNameLength = 200;

    private static readonly string[] s_fields = ["name", "model", "system", "options", "keepAlive", "think", "format", "description"];

    /// <summary>
    /// Reads one preset; null, with every problem prefixed by <paramref name="where"/>, when it cannot be one.
    /// <paramref name="named"/> is the name the preset must have (a PUT's path): <c>name</c> may then be left out.
    /// </summary>
    public static ModelPreset? Read(JsonElement item, string where, List<string> problems, PresetOrigin origin, string? named = null)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: must be an object like {Example}");
            return null;
        }

        var before = problems.Count;
        foreach (var property in item.EnumerateObject())
        {
            if (Array.IndexOf(s_fields, property.Name) < 0)
            {
                var hint = Array.Find(s_fields, f => string.Equals(f, property.Name, StringComparison.OrdinalIgnoreCase) || string.Equals(f, property.Name.Replace("_", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
                problems.Add(hint is null
                    ? $"{where}: unknown field '{property.Name}' (known: {string.Join(", ", s_fields)})"
                    : $"{where}: unknown field '{property.Name}'; did you mean '{hint}'?");
            }
        }

        var name = ConfigFile.ReadString(item, "name", where, problems);
        if (named is not null)
        {
            if (name is not null && ModelName.Key(name) != ModelName.Key(named))
            {
                problems.Add($"{where}: \"name\" is '{name}' but the path names '{named}'; a preset cannot be renamed (add one under the new name, then delete this one)");
            }

            name = named;
        }

        var model = ConfigFile.ReadString(item, "model", where, problems);
        CheckName(name, "name", where, problems);
        CheckName(model, "model", where, problems);
        if (name is not null && model is not null && ModelName.Key(name) == ModelName.Key(model))
        {
            problems.Add($"{where}: \"name\" and \"model\" are the same model; a preset needs a name of its own");
        }

        var system = ConfigFile.ReadString(item, "system", where, problems);
        var description = ConfigFile.ReadString(item, "description", where, problems);
        var options = Value(item, "options");
        if (options is { ValueKind: not JsonValueKind.Object })
        {
            problems.Add($"{where}: \"options\" must be an object of Ollama's options, like {{\"temperature\": 0.2, \"num_ctx\": 8192}}");
        }
        else if (options is { } o)
        {
            foreach (var option in o.EnumerateObject())
            {
                if (option.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Null)
                {
                    problems.Add($"{where}: options.{option.Name} must be a number, a string, true or false, or a list (like \"stop\")");
                }
            }
        }

        var keepAlive = Value(item, "keepAlive");
        TimeSpan? keepAliveSpan = null;
        if (keepAlive is { } k)
        {
            keepAliveSpan = k.ValueKind switch
            {
                JsonValueKind.Number => k.TryGetDouble(out var seconds) ? Fleet.KeepAlive.Parse(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null,
                JsonValueKind.String => Fleet.KeepAlive.Parse(k.GetString()),
                _ => null,
            };
            if (keepAliveSpan is null)
            {
                problems.Add($"{where}: \"keepAlive\" must be seconds (300) or a duration like \"30m\" or \"1h\" (negative: for ever)");
            }
        }

        var think = Value(item, "think");
        if (think is { } t && !(t.ValueKind is JsonValueKind.True or JsonValueKind.False
            || (t.ValueKind == JsonValueKind.String && t.GetString() is "low" or "medium" or "high" or "max")))
        {
            problems.Add($"{where}: \"think\" must be true, false, \"low\", \"medium\", \"high\" or \"max\"");
        }

        var format = Value(item, "format");
        if (format is { } f && !(f.ValueKind == JsonValueKind.Object || (f.ValueKind == JsonValueKind.String && f.GetString() == "json")))
        {
            problems.Add($"{where}: \"format\" must be \"json\" or a JSON schema object");
        }

        if (problems.Count > before || name is null || model is null)
        {
            return null;
        }

        return new ModelPreset(name, model)
        {
            System = system,
            Options = options?.Clone(),
            KeepAlive = keepAlive?.Clone(),
            KeepAliveSpan = keepAliveSpan,
            Think = think?.Clone(),
            Format = format?.Clone(),
            Description = description,
            Origin = origin,
        };
    }

    /// <summary>Writes the preset's definition (what <see cref="Read"/> reads), without where it comes from.</summary>
    public static void Write(Utf8JsonWriter writer, ModelPreset preset)
    {
        writer.WriteStartObject();
        WriteFields(writer, preset);
        writer.WriteEndObject();
    }

    /// <summary>The definition's fields, for a writer already inside an object.</summary>
    public static void WriteFields(Utf8JsonWriter writer, ModelPreset preset)
    {
        writer.WriteString("name", preset.Name);
        writer.WriteString("model", preset.Model);
        Optional(writer, "system", preset.System);
        Optional(writer, "options", preset.Options);
        Optional(writer, "keepAlive", preset.KeepAlive);
        Optional(writer, "think", preset.Think);
        Optional(writer, "format", preset.Format);
        Optional(writer, "description", preset.Description);
    }

    /// <summary>The definition as JSON text (what the store keeps).</summary>
    public static string Json(ModelPreset preset)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, preset);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Optional(Utf8JsonWriter writer, string field, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(field, value);
        }
    }

    private static void Optional(Utf8JsonWriter writer, string field, JsonElement? value)
    {
        if (value is { } v)
        {
            writer.WritePropertyName(field);
            v.WriteTo(writer);
        }
    }

    private static JsonElement? Value(JsonElement item, string field) =>
        item.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static void CheckName(string? name, string field, string where, List<string> problems)
    {
        if (name is null)
        {
            problems.Add(field == "name"
                ? $"{where}: \"name\" is required (the model name clients ask for)"
                : $"{where}: \"model\" is required (the base model the preset runs on, as /api/tags lists it)");
            return;
        }

        if (name.Length == 0 || name.Length > MaxNameLength || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            problems.Add($"{where}: \"{field}\" must be a model name of 1 to {MaxNameLength} characters without spaces");
        }
    }
}
