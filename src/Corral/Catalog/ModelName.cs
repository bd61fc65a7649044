namespace Corral.Catalog;

/// <summary>
/// Model names as Ollama resolves them: <c>[host/][namespace/]model[:tag]</c> with the defaults
/// <c>registry.ollama.ai</c>, <c>library</c> and <c>latest</c>, compared case-insensitively.
/// Mirrors <c>types/model/name.go</c> (ParseNameBare, DisplayShortest).
/// </summary>
internal static class ModelName
{
    public const string DefaultHost = "registry.ollama.ai";
    public const string DefaultNamespace = "library";
    public const string DefaultTag = "latest";

    /// <summary>The shortest display form Ollama uses, e.g. <c>llama3.2</c> becomes <c>llama3.2:latest</c>.</summary>
    public static string Canonical(string name)
    {
        var s = name.Trim();
        var digestAt = s.IndexOf('@', StringComparison.Ordinal);
        var digest = string.Empty;
        if (digestAt >= 0)
        {
            digest = s[digestAt..];
            s = s[..digestAt];
        }

        var tag = DefaultTag;
        var lastColon = s.LastIndexOf(':');
        if (lastColon > s.LastIndexOf('/'))
        {
            tag = s[(lastColon + 1)..];
            s = s[..lastColon];
            if (tag.Length == 0)
            {
                tag = DefaultTag;
            }
        }

        string host = DefaultHost, ns = DefaultNamespace, model;
        var slash = s.LastIndexOf('/');
        if (slash < 0)
        {
            model = s;
        }
        else
        {
            model = s[(slash + 1)..];
            s = s[..slash];
            slash = s.LastIndexOf('/');
            if (slash < 0)
            {
                ns = s;
            }
            else
            {
                ns = s[(slash + 1)..];
                host = s[..slash];
                var scheme = host.IndexOf("://", StringComparison.Ordinal);
                if (scheme >= 0)
                {
                    host = host[(scheme + 3)..];
                }
            }
        }

        if (!string.Equals(host, DefaultHost, StringComparison.OrdinalIgnoreCase))
        {
            return $"{host}/{ns}/{model}:{tag}{digest}";
        }

        return string.Equals(ns, DefaultNamespace, StringComparison.OrdinalIgnoreCase)
            ? $"{model}:{tag}{digest}"
            : $"{ns}/{model}:{tag}{digest}";
    }

    /// <summary>The lookup key of a name: canonical and lower-cased (Ollama compares names case-insensitively).</summary>
    public static string Key(string name) => Canonical(name).ToLowerInvariant();

    /// <summary>The namespace part of a name (<c>library</c> unless given), used for OpenAI's <c>owned_by</c>.</summary>
    public static string Namespace(string name)
    {
        var canonical = Canonical(name);
        var parts = canonical.Split('/');
        return parts.Length switch
        {
            1 => DefaultNamespace,
            2 => parts[0],
            _ => parts[^2],
        };
    }

    /// <summary>
    /// The name behind <paramref name="prefix"/> (<c>gpu1.llama3.2</c> with <c>gpu1</c> gives <c>llama3.2</c>),
    /// or null when the name does not carry that prefix.
    /// </summary>
    public static string? WithoutPrefix(string name, string prefix) =>
        name.Length > prefix.Length + 1 && name[prefix.Length] == '.' && name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            ? name[(prefix.Length + 1)..]
            : null;
}
