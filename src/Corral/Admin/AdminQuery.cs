using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Corral.Admin;

/// <summary>The admin API's query parameters: times, limits and unknown names, each problem in words that name the parameter.</summary>
internal static class AdminQuery
{
    private const string TimeExample = "an ISO 8601 time like 2026-12-01T00:00:00Z or 2026-12-01";

    /// <summary>The time in parameter <paramref name="name"/>, or null when it is not given (or not a time: then a problem).</summary>
    public static DateTimeOffset? Time(IQueryCollection query, string name, List<string> problems)
    {
        if (NonEmpty(query[name]) is not { } text)
        {
            return null;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            || parsed.Year < 1970)
        {
            problems.Add($"{name}: '{text}' is not {TimeExample}");
            return null;
        }

        return parsed;
    }

    /// <summary>The <c>limit</c> parameter: a whole number from 1 to <paramref name="max"/>, <paramref name="fallback"/> when not given.</summary>
    public static int Limit(StringValues values, int fallback, int max, List<string> problems)
    {
        if (NonEmpty(values) is not { } text)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > max)
        {
            problems.Add($"limit: '{text}' is not a whole number from 1 to {max.ToString(CultureInfo.InvariantCulture)}");
            return fallback;
        }

        return limit;
    }

    /// <summary>Adds a problem for each parameter that is not one of <paramref name="known"/>.</summary>
    public static void UnknownParameters(IQueryCollection query, string[] known, List<string> problems)
    {
        foreach (var name in query.Keys)
        {
            if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"{name}: unknown parameter; the parameters are {string.Join(", ", known)}");
            }
        }
    }

    public static string? NonEmpty(StringValues values) => values.Count > 0 && !string.IsNullOrWhiteSpace(values[0]) ? values[0]!.Trim() : null;
}
