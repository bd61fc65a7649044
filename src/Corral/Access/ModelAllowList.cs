namespace Corral.Access;

/// <summary>
/// The models a key may use: glob patterns over catalog ids (<c>llama3*</c>, <c>big.*</c>, <c>qwen?:7b</c>), compared
/// without regard to case. <c>*</c> stands for any run of characters, <c>?</c> for one. A pattern without a tag also
/// matches the model's <c>:latest</c> (<c>llama3.2</c> allows <c>llama3.2:latest</c>), as Ollama treats the two as
/// one name. No patterns: every model.
/// </summary>
internal sealed class ModelAllowList
{
    public const int MaxPatterns = 100;
    public const int MaxPatternLength = 200;
    private const string LatestTag = ":latest";

    private readonly string[] _patterns;

    private ModelAllowList(string[] patterns) => _patterns = patterns;

    public static ModelAllowList Everything { get; } = new([]);

    /// <summary>The patterns as given (none for every model).</summary>
    public IReadOnlyList<string> Patterns => _patterns;

    public bool AllowsAll => _patterns.Length == 0;

    public static ModelAllowList Of(IReadOnlyList<string>? patterns) =>
        patterns is null || patterns.Count == 0 ? Everything : new([.. patterns]);

    /// <summary>Adds a problem for each pattern that cannot be one (empty, too long, control characters) or for too many.</summary>
    public static void Check(IReadOnlyList<string> patterns, string field, List<string> problems)
    {
        if (patterns.Count > MaxPatterns)
        {
            problems.Add($"\"{field}\" takes at most {MaxPatterns} patterns");
        }

        foreach (var pattern in patterns)
        {
            if (pattern.Length == 0 || pattern.Length > MaxPatternLength || pattern.Any(char.IsControl) || pattern.Trim().Length != pattern.Length)
            {
                problems.Add($"\"{field}\": '{pattern.ReplaceLineEndings(" ")}' is not a model pattern (1 to {MaxPatternLength} characters, no spaces around it, no control characters; * and ? are wildcards)");
            }
        }
    }

    /// <summary>Whether the model with catalog id <paramref name="model"/> may be used.</summary>
    public bool Allows(string model)
    {
        if (_patterns.Length == 0)
        {
            return true;
        }

        var untagged = model.EndsWith(LatestTag, StringComparison.OrdinalIgnoreCase) ? model.AsSpan(0, model.Length - LatestTag.Length) : [];
        foreach (var pattern in _patterns)
        {
            if (Glob(pattern, model) || (!untagged.IsEmpty && !HasTag(pattern) && Glob(pattern, untagged)))
            {
                return true;
            }
        }

        return false;
    }

    // A tag follows the last colon after the last slash (registry hosts may carry a port: host:5000/llama3).
    private static bool HasTag(string pattern) => pattern.LastIndexOf(':') > pattern.LastIndexOf('/');

    /// <summary>Glob match with <c>*</c> and <c>?</c>, ignoring case; linear backtracking over the last star.</summary>
    internal static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
