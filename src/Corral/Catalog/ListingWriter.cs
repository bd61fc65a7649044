using System.Text.Json;

namespace Corral.Catalog;

/// <summary>Writes a backend's model entry (from /api/tags or /api/ps) with its name shown as clients see it.</summary>
internal static class ListingWriter
{
    /// <summary>Copies <paramref name="entry"/>, prefixing <c>name</c> and <c>model</c> with <paramref name="prefix"/> when there is one.</summary>
    public static void WriteModel(Utf8JsonWriter writer, JsonElement entry, string? prefix)
    {
        if (prefix is null)
        {
            entry.WriteTo(writer);
            return;
        }

        writer.WriteStartObject();
        foreach (var property in entry.EnumerateObject())
        {
            if ((property.NameEquals("name"u8) || property.NameEquals("model"u8)) && property.Value.ValueKind == JsonValueKind.String)
            {
                writer.WriteString(property.Name, prefix + "." + property.Value.GetString());
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes the listing entry of a preset: its base's <paramref name="entry"/> under the preset's name, with
    /// <c>details.parent_model</c> naming the base, as Ollama lists a model created <c>FROM</c> another.
    /// </summary>
    public static void WritePreset(Utf8JsonWriter writer, JsonElement entry, string name, string parent)
    {
        writer.WriteStartObject();
        var details = false;
        foreach (var property in entry.EnumerateObject())
        {
            if (property.NameEquals("name"u8) || property.NameEquals("model"u8))
            {
                writer.WriteString(property.Name, name);
            }
            else if (property.NameEquals("details"u8) && property.Value.ValueKind == JsonValueKind.Object)
            {
                details = true;
                WriteDetails(writer, property.Value, parent);
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        if (!details)
        {
            WriteDetails(writer, null, parent);
        }

        writer.WriteEndObject();
    }

    /// <summary>Writes <c>"details"</c>: those of the base (if any), with <c>parent_model</c> naming <paramref name="parent"/>.</summary>
    public static void WriteDetails(Utf8JsonWriter writer, JsonElement? details, string parent)
    {
        writer.WriteStartObject("details");
        writer.WriteString("parent_model", parent);
        if (details is { } given)
        {
            foreach (var detail in given.EnumerateObject())
            {
                if (!detail.NameEquals("parent_model"u8))
                {
                    detail.WriteTo(writer);
                }
            }
        }

        writer.WriteEndObject();
    }

    /// <summary>The backend's name for a listed model: <c>name</c>, else <c>model</c>.</summary>
    public static string? NameOf(JsonElement entry)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (entry.TryGetProperty("name"u8, out var name) && name.ValueKind == JsonValueKind.String && name.GetString() is { Length: > 0 } n)
        {
            return n;
        }

        return entry.TryGetProperty("model"u8, out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null;
    }
}
