using System.Text.Json;
using Corral.Access;

namespace Corral.Admin;

/// <summary>
/// Reads a key's settings from an admin body: every field for <c>POST /admin/api/keys</c>, only those sent for
/// <c>PATCH</c> (a limit sent as null is lifted). Every problem is listed, each naming its field.
/// </summary>
internal static class KeyDefinitions
{
    public const string Example = """{"name":"laptop","role":"user","models":["llama3*"],"requestsPerMinute":60}""";

    private static readonly string[] s_fields =
        ["name", "role", "description", "models", "requestsPerMinute", "tokensPerMinute", "tokensPerDay", "maxConcurrency", "expiresAt", "assertsUsers"];

    private static readonly string[] s_readOnly = ["id", "createdAt", "lastUsedAt", "hint", "key", "revokedAt", "active"];

    /// <summary>
    /// The settings <paramref name="body"/> makes of <paramref name="current"/> (null: a new key, which needs a name and a
    /// role); null when there are problems, all of them in <paramref name="problems"/>.
    /// </summary>
    public static KeySettings? Read(JsonElement body, KeySettings? current, DateTimeOffset now, List<string> problems)
    {
        var before = problems.Count;
        foreach (var property in body.EnumerateObject())
        {
            if (Array.IndexOf(s_readOnly, property.Name) >= 0)
            {
                problems.Add($"\"{property.Name}\" is read-only");
            }
            else if (Array.IndexOf(s_fields, property.Name) < 0)
            {
                problems.Add($"unknown field \"{property.Name}\" (known: {string.Join(", ", s_fields)})");
            }
        }

        var settings = current ?? KeySettings.Of(string.Empty, KeyRole.User);
        var limits = settings.Limits;
        if (Field(body, "name", current is null, problems) is { } name)
        {
            var text = name.ValueKind == JsonValueKind.String ? name.GetString()!.Trim() : null;
            if (string.IsNullOrEmpty(text) || text.Length > 100 || text.Any(char.IsControl))
            {
                problems.Add("\"name\" must be a text of 1 to 100 characters, without control characters");
            }
            else
            {
                settings = settings with { Name = text };
            }
        }

        if (Field(body, "role", current is null, problems) is { } roleValue)
        {
            if (roleValue.ValueKind == JsonValueKind.String && roleValue.GetString() is "admin" or "user")
            {
                settings = settings with { Role = roleValue.GetString() == "admin" ? KeyRole.Admin : KeyRole.User };
            }
            else
            {
                problems.Add("\"role\" must be \"admin\" or \"user\"");
            }
        }

        if (Optional(body, "description", out var description))
        {
            if (description.ValueKind == JsonValueKind.Null)
            {
                settings = settings with { Description = null };
            }
            else if (description.ValueKind != JsonValueKind.String || description.GetString()!.Length > 1000)
            {
                problems.Add("\"description\" must be a text of at most 1000 characters (or null)");
            }
            else
            {
                settings = settings with { Description = description.GetString() };
            }
        }

        if (Optional(body, "models", out var models))
        {
            if (models.ValueKind == JsonValueKind.Null)
            {
                settings = settings with { Models = [] };
            }
            else if (models.ValueKind != JsonValueKind.Array || models.EnumerateArray().Any(m => m.ValueKind != JsonValueKind.String))
            {
                problems.Add("\"models\" must be a list of model patterns like [\"llama3*\", \"big.*\"] (empty or null: every model)");
            }
            else
            {
                var patterns = models.EnumerateArray().Select(m => m.GetString()!).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
                ModelAllowList.Check(patterns, "models", problems);
                settings = settings with { Models = patterns };
            }
        }

        limits = limits with
        {
            RequestsPerMinute = (int?)Count(body, "requestsPerMinute", limits.RequestsPerMinute, 1_000_000_000, problems),
            TokensPerMinute = Count(body, "tokensPerMinute", limits.TokensPerMinute, 1_000_000_000_000, problems),
            TokensPerDay = Count(body, "tokensPerDay", limits.TokensPerDay, 1_000_000_000_000, problems),
            MaxConcurrency = (int?)Count(body, "maxConcurrency", limits.MaxConcurrency, 100_000, problems),
        };
        settings = settings with { Limits = limits.IsNone ? KeyLimits.None : limits };

        if (Optional(body, "expiresAt", out var expires))
        {
            if (expires.ValueKind == JsonValueKind.Null)
            {
                settings = settings with { ExpiresAt = null };
            }
            else if (expires.ValueKind != JsonValueKind.String || !expires.TryGetDateTimeOffset(out var at))
            {
                problems.Add("\"expiresAt\" must be a time like \"2027-01-31T00:00:00Z\" (or null: never)");
            }
            else if (at <= now)
            {
                problems.Add("\"expiresAt\" must be in the future");
            }
            else
            {
                settings = settings with { ExpiresAt = at };
            }
        }

        if (Optional(body, "assertsUsers", out var asserts))
        {
            if (asserts.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                settings = settings with { AssertsUsers = asserts.GetBoolean() };
            }
            else
            {
                problems.Add("\"assertsUsers\" must be true or false");
            }
        }

        return problems.Count > before ? null : settings;
    }

    /// <summary>The grace period of <c>POST /admin/api/keys/{id}/rotate</c> (no body, or no field: none).</summary>
    public static TimeSpan? Grace(JsonElement? body, List<string> problems)
    {
        if (body is not { } value)
        {
            return TimeSpan.Zero;
        }

        foreach (var property in value.EnumerateObject())
        {
            if (property.Name != "graceSeconds")
            {
                problems.Add($"unknown field \"{property.Name}\" (known: graceSeconds)");
            }
        }

        if (!value.TryGetProperty("graceSeconds", out var grace) || grace.ValueKind == JsonValueKind.Null)
        {
            return problems.Count == 0 ? TimeSpan.Zero : null;
        }

        if (grace.ValueKind != JsonValueKind.Number || !grace.TryGetDouble(out var seconds) || !(seconds >= 0 && seconds <= TimeSpan.FromDays(30).TotalSeconds))
        {
            problems.Add("\"graceSeconds\" must be a number of seconds from 0 to 2592000 (30 days)");
            return null;
        }

        return problems.Count == 0 ? TimeSpan.FromSeconds(seconds) : null;
    }

    // A field that must be there on creation, and may not be null when sent.
    private static JsonElement? Field(JsonElement body, string name, bool required, List<string> problems)
    {
        if (body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
        {
            return value;
        }

        if (required || body.TryGetProperty(name, out _))
        {
            problems.Add(name == "role" ? "\"role\" must be \"admin\" or \"user\"" : $"\"{name}\" is required");
        }

        return null;
    }

    private static bool Optional(JsonElement body, string name, out JsonElement value) => body.TryGetProperty(name, out value);

    // A whole number from 1 to max, or null to lift the limit; the current value when the field is not sent.
    private static long? Count(JsonElement body, string name, long? current, long max, List<string> problems)
    {
        if (!body.TryGetProperty(name, out var value))
        {
            return current;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var count) || count < 1 || count > max)
        {
            problems.Add($"\"{name}\" must be a whole number from 1 to {max} (or null: no limit)");
            return current;
        }

        return count;
    }
}
