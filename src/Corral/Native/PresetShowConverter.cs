using System.Globalization;
using System.Text;
using System.Text.Json;
using Corral.Catalog;
using Corral.Forwarding;
using Corral.Pipeline;

namespace Corral.Native;

/// <summary>
/// <c>/api/show</c> of a preset: the base's answer as Ollama shows a model created <c>FROM</c> it, so that Open WebUI
/// and the <c>ollama</c> CLI display the preset: <c>system</c> is the preset's, <c>parameters</c> holds the preset's
/// options over the base's (one <c>%-30s %#v</c> line each, a list one line per item, as Ollama's show handler
/// formats them), <c>modelfile</c> names the preset and carries its <c>SYSTEM</c> and <c>PARAMETER</c> lines, and
/// <c>details.parent_model</c> names the base.
/// </summary>
internal sealed class PresetShowConverter(ModelPreset preset, string baseName) : BufferingConverter
{
    protected override async ValueTask<bool> AnswerAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        JsonDocument shown;
        try
        {
            shown = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            await ErrorWriter.WriteAsync(context, ProxyError.BadGateway("the backend answered /api/show with something that is not JSON"));
            return false;
        }

        using (shown)
        {
            if (shown.RootElement.ValueKind != JsonValueKind.Object)
            {
                await ErrorWriter.WriteAsync(context, ProxyError.BadGateway("the backend answered /api/show with something that is not a JSON object"));
                return false;
            }

            await JsonAnswer.WriteAsync(context, StatusCodes.Status200OK, "application/json; charset=utf-8", (this, shown.RootElement), static (writer, state) => state.Item1.Write(writer, state.RootElement));
        }

        return true;
    }

    private void Write(Utf8JsonWriter writer, JsonElement root)
    {
        writer.WriteStartObject();
        bool sawSystem = false, sawParameters = false, sawDetails = false;
        foreach (var property in root.EnumerateObject())
        {
            if (property.NameEquals("modelfile"u8))
            {
                writer.WriteString("modelfile", Modelfile(property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : string.Empty));
            }
            else if (property.NameEquals("parameters"u8))
            {
                sawParameters = true;
                writer.WriteString("parameters", Parameters(property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : string.Empty));
            }
            else if (property.NameEquals("system"u8) && preset.System is { } system)
            {
                sawSystem = true;
                writer.WriteString("system", system);
            }
            else if (property.NameEquals("details"u8) && property.Value.ValueKind == JsonValueKind.Object)
            {
                sawDetails = true;
                ListingWriter.WriteDetails(writer, property.Value, baseName);
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        if (!sawParameters && preset.Options is not null)
        {
            writer.WriteString("parameters", Parameters(string.Empty));
        }

        if (!sawSystem && preset.System is { } own)
        {
            writer.WriteString("system", own);
        }

        if (!sawDetails)
        {
            ListingWriter.WriteDetails(writer, null, baseName);
        }

        writer.WriteEndObject();
    }

    /// <summary>The base's parameter lines the preset does not set, then the preset's.</summary>
    private string Parameters(string baseParameters)
    {
        var lines = new List<string>();
        foreach (var line in baseParameters.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Sets(FirstWord(line)))
            {
                lines.Add(line);
            }
        }

        foreach (var (name, value) in Options())
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{name,-30} {GoValue(value)}"));
        }

        return string.Join('\n', lines);
    }

    /// <summary>The base's Modelfile, shown as the preset's: its name on the FROM comment, its SYSTEM and PARAMETER lines.</summary>
    private string Modelfile(string baseModelfile)
    {
        var text = new StringBuilder();
        var lines = baseModelfile.Split('\n');
        var inSystem = false;
        foreach (var line in lines)
        {
            if (inSystem)
            {
                inSystem = !line.Contains("\"\"\"", StringComparison.Ordinal);
                continue;
            }

            if (line.StartsWith("# FROM ", StringComparison.Ordinal))
            {
                text.Append("# FROM ").Append(preset.Name).Append('\n');
            }
            else if (preset.System is not null && line.StartsWith("SYSTEM ", StringComparison.OrdinalIgnoreCase))
            {
                // A multi-line SYSTEM """...""" goes on until its closing quotes.
                var rest = line.AsSpan(7);
                inSystem = rest.StartsWith("\"\"\"") && rest[3..].IndexOf("\"\"\"") < 0;
            }
            else if (line.StartsWith("PARAMETER ", StringComparison.OrdinalIgnoreCase) && Sets(FirstWord(line[10..])))
            {
                continue;
            }
            else
            {
                text.Append(line).Append('\n');
            }
        }

        // The base's text ends with a newline: one empty last item, already written.
        if (lines.Length > 0 && lines[^1].Length == 0)
        {
            text.Length--;
        }

        if (text.Length > 0 && text[^1] != '\n')
        {
            text.Append('\n');
        }

        if (preset.System is { } system)
        {
            text.Append("SYSTEM ").Append(system.Contains('\n', StringComparison.Ordinal) || system.Contains('"', StringComparison.Ordinal) ? "\"\"\"" + system + "\"\"\"" : system).Append('\n');
        }

        foreach (var (name, value) in Options())
        {
            text.Append("PARAMETER ").Append(name).Append(' ').Append(value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()).Append('\n');
        }

        return text.ToString();
    }

    // The preset's options, a list given as one entry per item (as Ollama keeps "stop").
    private IEnumerable<(string Name, JsonElement Value)> Options()
    {
        if (preset.Options is not { } options)
        {
            yield break;
        }

        foreach (var option in options.EnumerateObject())
        {
            if (option.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in option.Value.EnumerateArray())
                {
                    yield return (option.Name, item);
                }
            }
            else
            {
                yield return (option.Name, option.Value);
            }
        }
    }

    private bool Sets(string option) => preset.Options is { } options && options.TryGetProperty(option, out _);

    private static string FirstWord(string line)
    {
        var trimmed = line.TrimStart();
        var end = trimmed.IndexOfAny([' ', '\t']);
        return end < 0 ? trimmed : trimmed[..end];
    }

    // Go's %#v of a JSON value: strings quoted, numbers and booleans as written.
    private static string GoValue(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? "\"" + JsonEncodedText.Encode(value.GetString()!, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\""
        : value.GetRawText();
}
