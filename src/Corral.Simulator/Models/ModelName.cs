namespace Corral.Simulator.Models;

/// <summary>Ollama's model-name rules: <c>[host/][namespace/]model[:tag]</c> with registry.ollama.ai, library and latest as defaults.</summary>
internal static class ModelName
{
    private const string DefaultHost = "registry.ollama.ai";
    private const string DefaultNamespace = "library";
    private const string DefaultTag = "latest";

    /// <summary>The shortest display form (<c>x:latest</c>, <c>ns/x:tag</c>, <c>host/ns/x:tag</c>), or null when invalid.</summary>
    public static string? Normalize(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var text = name.Trim();
        var slash = text.LastIndexOf('/');
        var colon = text.LastIndexOf(':');
        var tag = DefaultTag;
        if (colon > slash)
        {
            tag = text[(colon + 1)..];
            text = text[..colon];
        }

        var parts = text.Split('/');
        var (host, space, model) = parts.Length switch
        {
            1 => (DefaultHost, DefaultNamespace, parts[0]),
            2 => (DefaultHost, parts[0], parts[1]),
            3 => (parts[0], parts[1], parts[2]),
            _ => (string.Empty, string.Empty, string.Empty),
        };

        if (!IsPart(host, allowColon: true) || !IsPart(space, allowColon: false) || !IsPart(model, allowColon: false) || !IsPart(tag, allowColon: false))
        {
            return null;
        }

        if (string.Equals(host, DefaultHost, StringComparison.OrdinalIgnoreCase))
        {
            return string.Equals(space, DefaultNamespace, StringComparison.OrdinalIgnoreCase)
                ? $"{model}:{tag}"
                : $"{space}/{model}:{tag}";
        }

        return $"{host}/{space}/{model}:{tag}";
    }

    /// <summary>Lookup key: names compare case-insensitively.</summary>
    public static string Key(string normalized) => normalized.ToLowerInvariant();

    private static bool IsPart(string part, bool allowColon)
    {
        if (part.Length is 0 or > 350 || !char.IsAsciiLetterOrDigit(part[0]) && part[0] != '_')
        {
            return false;
        }

        foreach (var c in part)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '.') && !(allowColon && c == ':'))
            {
                return false;
            }
        }

        return true;
    }
}
