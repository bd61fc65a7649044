using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace Corral.WebConsole;

/// <summary>
/// The web console's files, built into Corral's assembly (EmbeddedResource <c>console/...</c> from
/// <c>WebConsole/wwwroot</c>): read once, each with its content type and an ETag from its bytes, so that the console
/// is served the same from <c>dotnet run</c>, a published folder or a single file, and never from disk.
/// </summary>
internal sealed class ConsoleAssets
{
    private const string Prefix = "console/";

    private static readonly FrozenDictionary<string, string> s_types = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".txt"] = "text/plain; charset=utf-8",
        [".json"] = "application/json; charset=utf-8",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private readonly FrozenDictionary<string, Asset> _assets;

    public ConsoleAssets()
        : this(typeof(ConsoleAssets).Assembly)
    {
    }

    internal ConsoleAssets(Assembly assembly)
    {
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var path = name[Prefix.Length..].Replace('\\', '/');
            var type = s_types.GetValueOrDefault(Path.GetExtension(path), "application/octet-stream");
            assets[path] = new Asset(bytes, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes).AsSpan(0, 8))}\"");
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every file's path under wwwroot (<c>index.html</c>, <c>js/app.js</c>...).</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>The file at <paramref name="path"/> (relative to wwwroot), or null.</summary>
    public Asset? Find(string path) => _assets.GetValueOrDefault(path);

    /// <summary>One file: its bytes, content type and ETag.</summary>
    internal sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
