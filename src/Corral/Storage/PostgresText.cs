namespace Corral.Storage;

/// <summary>
/// Text as PostgreSQL takes it. A text value cannot hold U+0000 and must be valid UTF-8, while a model or user name
/// from a client's JSON may hold either (an escaped NUL, a lone surrogate); such a value would fail its whole batch,
/// again at every retry, so each such character is stored as U+FFFD instead. SQLite keeps them as given.
/// </summary>
internal static class PostgresText
{
    /// <summary><paramref name="value"/> itself when PostgreSQL takes it as it is (nearly always), else a copy with U+FFFD in place of each NUL and lone surrogate.</summary>
    public static string Clean(string value)
    {
        var i = 0;
        for (; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0' || (char.IsSurrogate(c) && !IsPair(value, i)))
            {
                break;
            }

            if (char.IsHighSurrogate(c))
            {
                i++;
            }
        }

        if (i == value.Length)
        {
            return value;
        }

        var chars = value.ToCharArray();
        for (; i < chars.Length; i++)
        {
            if (chars[i] == '\0' || (char.IsSurrogate(chars[i]) && !IsPair(value, i)))
            {
                chars[i] = '\uFFFD';
            }
            else if (char.IsHighSurrogate(chars[i]))
            {
                i++;
            }
        }

        return new string(chars);
    }

    private static bool IsPair(string value, int i) => char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
}
