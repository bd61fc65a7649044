using System.Text.Json;
using Corral.Fleet;
using Corral.Hosting;

namespace Corral.Admin;

/// <summary>
/// Turns a backend's JSON (an admin API body, or a stored backend) into <see cref="BackendOptions"/> by the rules
/// of the configuration file, with the same messages, and back into JSON.
/// </summary>
internal static class BackendDefinitions
{
    /// <summary>What a backend body looks like, for error messages.</summary>
    public const string Example = """{"name":"gpu3","url":"http://10.0.0.7:11434"}""";

    // Fields the admin API takes besides those of the configuration file.
    private static readonly string[] s_moreFields = ["priority", "connectTimeout", "firstByteTimeout", "idleTimeout"];

    /// <summary>
    /// Reads a backend object, adding every problem (prefixed with <paramref name="where"/>) to
    /// <paramref name="problems"/>; null when there is any.
    /// </summary>
    public static BackendOptions? Read(JsonElement item, string where, List<string> problems)
    {
        var before = problems.Count;
        var options = ConfigFile.ReadBackend(item, where, problems, s_moreFields);
        if (item.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var priority = ConfigFile.ReadNumber(item, "priority", where, problems) ?? 0;
        if (priority != Math.Floor(priority) || Math.Abs(priority) > 1_000_000)
        {
            problems.Add($"{where}: priority must be a whole number (lower tiers are preferred)");
        }

        CheckKey(options?.Key ?? Text(item, "key"), where, problems);
        var connect = Seconds(item, "connectTimeout", where, problems);
        var firstByte = Seconds(item, "firstByteTimeout", where, problems);
        var idle = Seconds(item, "idleTimeout", where, problems);

        // The name (given, or the URL's host:port) and prefix rules, also when other fields have problems.
        var name = options?.Name ?? Text(item, "name") ?? (Text(item, "url") is { } u && BackendUrl.TryParse(u, out _) is { } url ? BackendUrl.DefaultName(url) : null);
        if (name is not null)
        {
            SettingsResolver.ValidateBackend(name, options?.Prefix ?? Text(item, "prefix"), problems);
        }

        if (options is null || problems.Count > before)
        {
            return null;
        }

        return options with
        {
            Key = options.Key is "" ? null : options.Key,
            // The file reads a missing maxConcurrency as 0 (unlimited); here it means Corral's default.
            MaxConcurrency = AdminBody.Has(item, "maxConcurrency") ? options.MaxConcurrency : null,
            Priority = (int)priority,
            ConnectTimeout = connect,
            FirstByteTimeout = firstByte,
            IdleTimeout = idle,
        };
    }

    /// <summary>
    /// Adds a problem unless <paramref name="key"/> can go in an Authorization header: visible ASCII only (a line
    /// break would end the header; anything else the HTTP client refuses when sending).
    /// </summary>
    public static void CheckKey(string? key, string where, List<string> problems)
    {
        if (key is not null && !key.All(c => c is > ' ' and <= '~'))
        {
            problems.Add($"{where}: \"key\" may use only visible ASCII characters (no spaces, line breaks or accents)");
        }
    }

    /// <summary>The JSON shape of <paramref name="options"/>, which <see cref="Read"/> reads back to the same settings.</summary>
    public static BackendDefinition Of(BackendOptions options) => new(
        options.Name,
        options.Url.AbsoluteUri.TrimEnd('/'),
        options.Key,
        options.Prefix,
        [.. options.Models],
        [.. options.Tags],
        options.Weight,
        options.MaxConcurrency,
        options.Priority,
        options.ConnectTimeout?.TotalSeconds,
        options.FirstByteTimeout?.TotalSeconds,
        options.IdleTimeout?.TotalSeconds,
        options.Enabled);

    private static string? Text(JsonElement item, string field) =>
        item.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static TimeSpan? Seconds(JsonElement item, string field, string where, List<string> problems)
    {
        if (ConfigFile.ReadNumber(item, field, where, problems) is not { } seconds)
        {
            return null;
        }

        // A day is far beyond any sensible timeout, and keeps TimeSpan arithmetic away from overflow.
        if (!(seconds > 0 && seconds <= TimeSpan.FromDays(1).TotalSeconds))
        {
            problems.Add($"{where}: {field} must be a positive number of seconds (at most 86400)");
            return null;
        }

        return TimeSpan.FromSeconds(seconds);
    }
}
