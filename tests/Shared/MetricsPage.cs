using System.Globalization;
using System.Text;

namespace Corral.Testing;

/// <summary>
/// The samples of a Prometheus text page, for assertions on what a user would query. Its format is checked by
/// promtool elsewhere; this reads only what the assertions need: name, labels, value.
/// </summary>
public sealed class MetricsPage
{
    private MetricsPage(string text, IReadOnlyList<Sample> samples)
    {
        Text = text;
        Samples = samples;
    }

    public string Text { get; }

    public IReadOnlyList<Sample> Samples { get; }

    public static MetricsPage Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            samples.Add(ParseSample(line));
        }

        return new MetricsPage(text, samples);
    }

    /// <summary>The value of the sample with exactly these labels, or null when the page has none.</summary>
    public double? Value(string name, params (string Name, string Value)[] labels) =>
        Samples.FirstOrDefault(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value))?.Value;

    /// <summary>Every sample of a metric.</summary>
    public IEnumerable<Sample> Of(string name) => Samples.Where(s => s.Name == name);

    private static Sample ParseSample(string line)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        string name;
        int rest;
        if (brace >= 0 && brace < space)
        {
            name = line[..brace];
            var i = brace + 1;
            while (line[i] != '}')
            {
                var equals = line.IndexOf('=', i);
                var label = line[i..equals];
                var value = new StringBuilder();
                var j = equals + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(line[j] == 'n' ? '\n' : line[j]);
                    }
                    else
                    {
                        value.Append(line[j]);
                    }
                }

                labels[label] = value.ToString();
                i = j + 1;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            rest = i + 1;
        }
        else
        {
            name = line[..space];
            rest = space;
        }

        var fields = line[rest..].Trim().Split(' ');
        var number = fields[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var text => double.Parse(text, CultureInfo.InvariantCulture),
        };
        return new Sample(name, labels, number);
    }

    /// <summary>One line of the page.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);
}
