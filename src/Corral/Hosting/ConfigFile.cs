using System.Text.Json;
using Corral.Fleet;

namespace Corral.Hosting;

/// <summary>
/// Reads the <c>--config</c> JSON file. It is walked by hand rather than deserialised so that every problem
/// (unknown field, wrong type, bad URL, duplicate name) is reported with its location, all at once.
/// </summary>
internal static class ConfigFile
{
    private static readonly string[] s_backendFields =
        ["name", "url", "enabled", "key", "prefix", "models", "tags", "weight", "maxConcurrency", "priority", "connectTimeout", "firstByteTimeout", "idleTimeout"];

    private static readonly string[] s_sections = ["backends", "presets", "trustedNetworks", "trustedProxies"];

    /// <summary>Reads a configuration file, adding every problem found to <paramref name="problems"/>.</summary>
    public static ConfigContents Read(string path, List<string> problems)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{path}: cannot be read: {e.Message}");
            return ConfigContents.Empty;
        }

        return Parse(text, path, problems);
    }

    /// <summary>The backends of configuration JSON (what a reload applies); <paramref name="source"/> names it in problems.</summary>
    public static IReadOnlyList<BackendOptions> ParseBackends(string json, string source, List<string> problems) => Parse(json, source, problems).Backends;

    /// <summary>Parses configuration JSON; <paramref name="source"/> names it in problems.</summary>
    public static ConfigContents Parse(string json, string source, List<string> problems)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            problems.Add($"{source}: not valid JSON (line {e.LineNumber + 1}): {FirstSentence(e.Message)}");
            return ConfigContents.Empty;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{source}: the file must hold a JSON object like {{\"backends\": [ ... ]}}");
                return ConfigContents.Empty;
            }

            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(s_sections, property.Name) < 0)
                {
                    problems.Add($"{source}: unknown field '{property.Name}' (the file holds {string.Join(", ", s_sections.Select(f => $"\"{f}\""))})");
                }
            }

            if (!s_sections.Any(f => root.TryGetProperty(f, out _)))
            {
                problems.Add($"{source}: no \"backends\" list");
                return ConfigContents.Empty;
            }

            var backends = new List<BackendOptions>();
            if (List(root, "backends", source, problems) is { } list)
            {
                var index = 0;
                foreach (var item in list.EnumerateArray())
                {
                    if (ReadBackend(item, $"{source}: backends[{index}]", problems) is { } backend)
                    {
                        backends.Add(backend);
                    }

                    index++;
                }
            }

            return new ConfigContents(backends, TrustedNetworks(root, source, problems), TrustedProxies(root, source, problems)) { Presets = Presets(root, source, problems) };
        }
    }

    private static JsonElement? List(JsonElement root, string field, string source, List<string> problems)
    {
        if (!root.TryGetProperty(field, out var list))
        {
            return null;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{source}: \"{field}\" must be a list");
            return null;
        }

        return list;
    }

    // "presets": [{"name": "support-bot", "model": "llama3.2", "system": "…", "options": {"temperature": 0.2}}]
    private static List<Catalog.ModelPreset> Presets(JsonElement root, string source, List<string> problems)
    {
        var presets = new List<Catalog.ModelPreset>();
        if (List(root, "presets", source, problems) is not { } list)
        {
            return presets;
        }

        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var where = $"{source}: presets[{index++}]";
            if (Catalog.PresetDefinitions.Read(item, where, problems, Catalog.PresetOrigin.Config) is not { } preset)
            {
                continue;
            }

            if (presets.Find(p => p.Key == preset.Key) is { } same)
            {
                problems.Add($"{where}: the preset name '{preset.Name}' is used twice (also by '{same.Name}'); each preset needs a name of its own");
            }
            else if (presets.Find(p => p.Key == preset.BaseKey) is not null)
            {
                problems.Add($"{where}: its base '{preset.Model}' is a preset; a preset's \"model\" is a model the backends list");
            }
            else
            {
                presets.Add(preset);
            }
        }

        // A base named after a preset defined further down the list.
        foreach (var preset in presets.ToArray())
        {
            if (presets.Exists(p => p.Key == preset.BaseKey))
            {
                problems.Add($"{source}: preset '{preset.Name}': its base '{preset.Model}' is a preset; a preset's \"model\" is a model the backends list");
                presets.Remove(preset);
            }
        }

        return presets;
    }

    // "trustedNetworks": [{"cidr": "10.0.0.0/8", "role": "user"}]
    private static List<Access.TrustedNetwork> TrustedNetworks(JsonElement root, string source, List<string> problems)
    {
        var networks = new List<Access.TrustedNetwork>();
        if (List(root, "trustedNetworks", source, problems) is not { } list)
        {
            return networks;
        }

        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var where = $"{source}: trustedNetworks[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{where}: must be an object like {{\"cidr\": \"10.0.0.0/8\", \"role\": \"user\"}}");
                continue;
            }

            foreach (var property in item.EnumerateObject())
            {
                if (property.Name is not ("cidr" or "role"))
                {
                    problems.Add($"{where}: unknown field '{property.Name}' (known: cidr, role)");
                }
            }

            var cidr = ReadString(item, "cidr", where, problems);
            var role = ReadString(item, "role", where, problems);
            if (cidr is null || role is null)
            {
                problems.Add($"{where}: needs \"cidr\" and \"role\"");
                continue;
            }

            if (Access.TrustedNetwork.Parse(cidr + "=" + role, where, problems) is { } network)
            {
                networks.Add(network);
            }
        }

        return networks;
    }

    // "trustedProxies": ["10.0.0.2", "172.16.0.0/12"]
    private static List<System.Net.IPNetwork> TrustedProxies(JsonElement root, string source, List<string> problems)
    {
        var proxies = new List<System.Net.IPNetwork>();
        if (List(root, "trustedProxies", source, problems) is not { } list)
        {
            return proxies;
        }

        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var where = $"{source}: trustedProxies[{index++}]";
            if (item.ValueKind != JsonValueKind.String)
            {
                problems.Add($"{where}: must be a network like \"10.0.0.2\" or \"172.16.0.0/12\"");
            }
            else if (Access.TrustedNetwork.ParseNetwork(item.GetString()!, where, problems) is { } network)
            {
                proxies.Add(network);
            }
        }

        return proxies;
    }

    /// <summary>
    /// Reads and checks one backend object (of the file, or of an admin API body), adding every problem, prefixed
    /// with <paramref name="where"/>, to <paramref name="problems"/>. <paramref name="moreFields"/> are accepted
    /// besides the file's own fields; the caller reads them. Null when the object cannot make a backend.
    /// </summary>
    public static BackendOptions? ReadBackend(JsonElement item, string where, List<string> problems, IReadOnlyList<string>? moreFields = null)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{where}: must be an object with at least a \"url\"");
            return null;
        }

        var before = problems.Count;
        var known = moreFields is null ? s_backendFields : [.. s_backendFields, .. moreFields];
        foreach (var property in item.EnumerateObject())
        {
            if (Array.IndexOf(known, property.Name) < 0)
            {
                var hint = known.FirstOrDefault(f => string.Equals(f, property.Name, StringComparison.OrdinalIgnoreCase));
                problems.Add(hint is null
                    ? $"{where}: unknown field '{property.Name}' (known: {string.Join(", ", known)})"
                    : $"{where}: unknown field '{property.Name}'; did you mean '{hint}'?");
            }
        }

        Uri? url = null;
        var urlText = ReadString(item, "url", where, problems);
        if (urlText is null)
        {
            if (!item.TryGetProperty("url", out var given) || given.ValueKind == JsonValueKind.Null)
            {
                problems.Add($"{where}: \"url\" is required");
            }
        }
        else
        {
            url = BackendUrl.TryParse(urlText, out var urlProblem);
            if (url is null)
            {
                problems.Add($"{where}: url {urlProblem}");
            }
        }

        var name = ReadString(item, "name", where, problems);
        var prefix = ReadString(item, "prefix", where, problems);
        var weight = ReadNumber(item, "weight", where, problems) ?? 1;
        var maxConcurrency = ReadNumber(item, "maxConcurrency", where, problems);
        var priority = ReadNumber(item, "priority", where, problems) ?? 0;
        var connectTimeout = ReadSeconds(item, "connectTimeout", where, problems);
        var firstByteTimeout = ReadSeconds(item, "firstByteTimeout", where, problems);
        var idleTimeout = ReadSeconds(item, "idleTimeout", where, problems);
        if (weight <= 0)
        {
            problems.Add($"{where}: weight must be greater than 0");
        }

        if (maxConcurrency is { } max && (max < 0 || max > int.MaxValue || max != Math.Floor(max)))
        {
            problems.Add($"{where}: maxConcurrency must be a whole number, 0 (unlimited) or more; leave it out to use --max-concurrency");
        }

        if (priority < int.MinValue || priority > int.MaxValue || priority != Math.Floor(priority))
        {
            problems.Add($"{where}: priority must be a whole number (0 is the default; lower numbers are preferred)");
        }

        // Read before giving up, so that every problem of the backend is reported at once.
        var enabled = ReadBool(item, "enabled", where, problems) ?? true;
        var key = ReadString(item, "key", where, problems);
        var models = ReadStrings(item, "models", where, problems);
        var tags = ReadStrings(item, "tags", where, problems);
        if (problems.Count > before || url is null)
        {
            return null;
        }

        return new BackendOptions
        {
            Name = name ?? BackendUrl.DefaultName(url),
            Url = url,
            Enabled = enabled,
            Key = key,
            Prefix = prefix,
            Models = models,
            Tags = tags,
            Weight = weight,
            MaxConcurrency = (int?)maxConcurrency,
            Priority = (int)priority,
            ConnectTimeout = connectTimeout,
            FirstByteTimeout = firstByteTimeout,
            IdleTimeout = idleTimeout,
        };
    }

    /// <summary>The field's text; null when absent or null, and a problem when it is not a string.</summary>
    public static string? ReadString(JsonElement item, string field, string where, List<string> problems)
    {
        if (!item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{where}: \"{field}\" must be a string");
            return null;
        }

        return value.GetString();
    }

    /// <summary>The field's number; null when absent or null, and a problem when it is not a number.</summary>
    public static double? ReadNumber(JsonElement item, string field, string where, List<string> problems)
    {
        if (!item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            problems.Add($"{where}: \"{field}\" must be a number");
            return null;
        }

        var number = value.GetDouble();
        if (!double.IsFinite(number))
        {
            problems.Add($"{where}: \"{field}\" is too large");
            return null;
        }

        return number;
    }

    // A timeout in seconds: fractions are allowed, zero and negatives are not.
    private static TimeSpan? ReadSeconds(JsonElement item, string field, string where, List<string> problems)
    {
        if (ReadNumber(item, field, where, problems) is not { } seconds)
        {
            return null;
        }

        if (seconds <= 0 || seconds > TimeSpan.MaxValue.TotalSeconds || TimeSpan.FromSeconds(seconds) <= TimeSpan.Zero)
        {
            problems.Add($"{where}: {field} must be a number of seconds greater than 0 (like 30 or 0.5); leave it out to use the global timeout");
            return null;
        }

        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The field's boolean; null when absent or null, and a problem when it is not true or false.</summary>
    public static bool? ReadBool(JsonElement item, string field, string where, List<string> problems)
    {
        if (!item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            problems.Add($"{where}: \"{field}\" must be true or false");
            return null;
        }

        return value.GetBoolean();
    }

    private static string[] ReadStrings(JsonElement item, string field, string where, List<string> problems)
    {
        if (!item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
        {
            problems.Add($"{where}: \"{field}\" must be a list of strings");
            return [];
        }

        return value.EnumerateArray().Select(v => v.GetString()!).ToArray();
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }
}

/// <summary>What a configuration file holds.</summary>
internal sealed record ConfigContents(IReadOnlyList<BackendOptions> Backends, IReadOnlyList<Access.TrustedNetwork> TrustedNetworks, IReadOnlyList<System.Net.IPNetwork> TrustedProxies)
{
    /// <summary>The model presets of the file's <c>"presets"</c> list.</summary>
    public IReadOnlyList<Catalog.ModelPreset> Presets { get; init; } = [];

    public static ConfigContents Empty { get; } = new([], [], []);
}
