using System.Globalization;
using System.Text.RegularExpressions;

namespace Corral.Simulator.Models;

/// <summary>What a model name suggests about the model: family, size, quantization and capabilities.</summary>
internal sealed partial class ModelTraits
{
    private ModelTraits(string family, IReadOnlyList<string> families, string parameterSize, long parameterCount, string quantization, IReadOnlyList<string> capabilities)
    {
        Family = family;
        Families = families;
        ParameterSize = parameterSize;
        ParameterCount = parameterCount;
        Quantization = quantization;
        Capabilities = capabilities;
    }

    public string Family { get; }

    public IReadOnlyList<string> Families { get; }

    public string ParameterSize { get; }

    public long ParameterCount { get; }

    public string Quantization { get; }

    public IReadOnlyList<string> Capabilities { get; }

    public bool IsEmbedding => Capabilities.Contains("embedding");

    public bool CanThink => Capabilities.Contains("thinking");

    public int ContextLength => IsEmbedding ? 512 : 4096;

    /// <summary>Bytes on disk: about 4.8 bits per parameter for Q4_K_M, 16 for F16.</summary>
    public long Size => Quantization == "F16" ? ParameterCount * 2 + 1_500_000 : ParameterCount * 6 / 10 + 120_000_000;

    public static ModelTraits For(string normalizedName)
    {
        var name = normalizedName.ToLowerInvariant();
        var slash = name.LastIndexOf('/');
        var bare = name[(slash + 1)..];
        var colon = bare.IndexOf(':', StringComparison.Ordinal);
        var model = colon < 0 ? bare : bare[..colon];
        var tag = colon < 0 ? string.Empty : bare[(colon + 1)..];

        var embedding = name.Contains("embed", StringComparison.Ordinal) || name.Contains("minilm", StringComparison.Ordinal) || name.Contains("bge", StringComparison.Ordinal);
        var capabilities = new List<string>();
        if (embedding)
        {
            capabilities.Add("embedding");
        }
        else
        {
            capabilities.Add("completion");
            capabilities.Add("tools");
            if (name.Contains("llava", StringComparison.Ordinal) || name.Contains("vision", StringComparison.Ordinal))
            {
                capabilities.Add("vision");
            }

            if (name.Contains("qwen3", StringComparison.Ordinal) || name.Contains("deepseek-r1", StringComparison.Ordinal) || name.Contains("gpt-oss", StringComparison.Ordinal))
            {
                capabilities.Add("thinking");
            }
        }

        var (family, families) = model switch
        {
            _ when name.Contains("nomic", StringComparison.Ordinal) => ("nomic-bert", new[] { "nomic-bert" }),
            _ when embedding => ("bert", new[] { "bert" }),
            _ when model.Contains("llava", StringComparison.Ordinal) => ("llama", new[] { "llama", "clip" }),
            _ when model.Contains("deepseek-r1", StringComparison.Ordinal) => ("qwen2", new[] { "qwen2" }),
            _ when model.Contains("qwen3", StringComparison.Ordinal) => ("qwen3", new[] { "qwen3" }),
            _ when model.Contains("qwen", StringComparison.Ordinal) => ("qwen2", new[] { "qwen2" }),
            _ when model.Contains("gemma", StringComparison.Ordinal) => ("gemma3", new[] { "gemma3" }),
            _ when model.Contains("phi", StringComparison.Ordinal) => ("phi3", new[] { "phi3" }),
            _ when model.Contains("gpt-oss", StringComparison.Ordinal) => ("gptoss", new[] { "gptoss" }),
            _ => ("llama", new[] { "llama" }),
        };

        var parameterSize = SizeFromTag(tag) ?? model switch
        {
            _ when model.Contains("minilm", StringComparison.Ordinal) => "23M",
            _ when model.Contains("nomic", StringComparison.Ordinal) => "137M",
            _ when embedding => "334M",
            "llama3.2" => "3.2B",
            "llama3.1" or "llama3" => "8.0B",
            "mistral" => "7.2B",
            "deepseek-r1" => "7.6B",
            "qwen3" => "8.2B",
            "llava" => "7B",
            "gpt-oss" => "20.9B",
            _ when model.StartsWith("gemma", StringComparison.Ordinal) => "4.3B",
            _ => "7.2B",
        };

        var quantization = embedding ? "F16" : model.Contains("gpt-oss", StringComparison.Ordinal) ? "MXFP4" : "Q4_K_M";
        return new ModelTraits(family, families, parameterSize, CountParameters(parameterSize), quantization, capabilities);
    }

    private static string? SizeFromTag(string tag)
    {
        var match = SizeTag().Match(tag);
        return match.Success ? match.Groups[1].Value + match.Groups[2].Value.ToUpperInvariant() : null;
    }

    private static long CountParameters(string parameterSize)
    {
        var number = decimal.Parse(parameterSize[..^1], CultureInfo.InvariantCulture);
        var scale = parameterSize[^1] == 'B' ? 1_000_000_000m : 1_000_000m;

        // A little odd-looking on purpose, like real parameter counts.
        return (long)(number * scale) + 30_261_248 % (long)(number * scale);
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)([bm])(?:$|[-_])", RegexOptions.CultureInvariant)]
    private static partial Regex SizeTag();
}
