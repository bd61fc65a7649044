namespace Corral.Hosting;

/// <summary>The configuration cannot be used; <see cref="Problems"/> lists every reason at once.</summary>
internal sealed class ConfigurationException(IReadOnlyList<string> problems)
    : Exception("Corral's configuration has problems:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
