using YamlDotNet.RepresentationModel;

namespace Corral.Tests.Deploy;

/// <summary>A compose file of <c>deploy/</c> read with a YAML parser, and the few ways its tests look into it.</summary>
internal sealed class ComposeFile
{
    private readonly YamlMappingNode _root;

    private ComposeFile(string name, YamlMappingNode root)
    {
        Name = name;
        _root = root;
    }

    public string Name { get; }

    public static ComposeFile Load(string name)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(DeployFolder.Read(name)));
        return new ComposeFile(name, (YamlMappingNode)yaml.Documents.Single().RootNode);
    }

    public IReadOnlyList<string> ServiceNames => [.. Mapping(_root, "services").Children.Keys.Select(k => ((YamlScalarNode)k).Value!)];

    /// <summary>The named volumes declared at the top level.</summary>
    public IReadOnlyList<string> VolumeNames => _root.Children.ContainsKey("volumes") ? [.. Mapping(_root, "volumes").Children.Keys.Select(k => ((YamlScalarNode)k).Value!)] : [];

    public YamlMappingNode Service(string name) => Mapping(Mapping(_root, "services"), name);

    public static bool Has(YamlMappingNode node, string key) => node.Children.ContainsKey(key);

    public static YamlMappingNode Mapping(YamlMappingNode node, string key) => (YamlMappingNode)node[key];

    public static string Scalar(YamlMappingNode node, string key) => ((YamlScalarNode)node[key]).Value!;

    public static IReadOnlyList<string> Sequence(YamlMappingNode node, string key) => [.. ((YamlSequenceNode)node[key]).Children.Select(c => ((YamlScalarNode)c).Value!)];

    /// <summary>A service's environment, written as a mapping (as every file here writes it).</summary>
    public static string Environment(YamlMappingNode service, string variable) => Scalar(Mapping(service, "environment"), variable);
}
