using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Corral.Doctor;

/// <summary>
/// <c>corral doctor --fix</c>: puts the URL that works in place of a failing one in the configuration file's
/// <c>backends</c>. Only the URL's string changes; the rest of the file (comments, order, spacing) stays byte for
/// byte, and the file is replaced at once, so a running Corral reloads either the old or the new one.
/// </summary>
internal static class ConfigFix
{
    /// <summary>One backend URL changed: where (the entry's index) and from what to what.</summary>
    internal readonly record struct Change(int Index, string From, string To);

    /// <summary>
    /// Replaces, in the file at <paramref name="path"/>, each backend URL that is a key of <paramref name="replacements"/>
    /// (compared as URLs: a trailing slash does not matter); returns what changed (nothing written when nothing did).
    /// </summary>
    public static IReadOnlyList<Change> Apply(string path, IReadOnlyDictionary<string, string> replacements)
    {
        var bytes = File.ReadAllBytes(path);
        var spans = UrlStrings(bytes);
        var changes = new List<(int Start, int Length, Change Change)>();
        foreach (var (index, start, length, url) in spans)
        {
            if (replacements.FirstOrDefault(r => Same(r.Key, url)) is { Value: { } to })
            {
                changes.Add((start, length, new Change(index, url, to)));
            }
        }

        if (changes.Count == 0)
        {
            return [];
        }

        var output = new MemoryStream(bytes.Length + 64);
        var at = 0;
        foreach (var (start, length, change) in changes)
        {
            output.Write(bytes, at, start - at);
            output.Write(Encoding.UTF8.GetBytes($"\"{JsonEncodedText.Encode(change.To, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)}\""));
            at = start + length;
        }

        output.Write(bytes, at, bytes.Length - at);
        var temporary = path + ".corral-doctor";
        File.WriteAllBytes(temporary, output.ToArray());
        File.Move(temporary, path, overwrite: true);
        return changes.Select(c => c.Change).ToArray();
    }

    // Where each backends[i].url string stands in the file: index, byte offset of its opening quote, length with quotes, value.
    private static List<(int Index, int Start, int Length, string Url)> UrlStrings(byte[] bytes)
    {
        var found = new List<(int, int, int, string)>();
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1 || !reader.ValueTextEquals("backends"u8))
            {
                continue;
            }

            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            {
                return found;
            }

            var index = -1;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                index++;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isUrl = reader.ValueTextEquals("url"u8);
                    reader.Read();
                    if (isUrl && reader.TokenType == JsonTokenType.String)
                    {
                        found.Add((index, (int)reader.TokenStartIndex, reader.ValueSpan.Length + 2, reader.GetString()!));
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }

            return found;
        }

        return found;
    }

    /// <summary>Whether two texts are the same backend URL (neither a trailing slash nor the case of the host matters).</summary>
    internal static bool Same(string a, string b) =>
        Hosting.BackendUrl.TryParse(a, out _) is { } first && Hosting.BackendUrl.TryParse(b, out _) is { } second
        && string.Equals(first.ToString(), second.ToString(), StringComparison.OrdinalIgnoreCase);
}
