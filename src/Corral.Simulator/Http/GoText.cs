using System.Globalization;
using System.Text;

namespace Corral.Simulator.Http;

/// <summary>Text the way Ollama's Go code prints it.</summary>
internal static class GoText
{
    /// <summary>Go's %q for ordinary strings.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                < ' ' => sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => sb.Append(c),
            };
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Go's time.RFC3339Nano: fractional seconds without trailing zeros, "Z" for UTC.</summary>
    public static string Rfc3339Nano(DateTimeOffset time)
    {
        var sb = new StringBuilder(40);
        sb.Append(time.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        var fraction = time.Ticks % TimeSpan.TicksPerSecond;
        if (fraction != 0)
        {
            sb.Append('.').Append(fraction.ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0'));
        }

        if (time.Offset == TimeSpan.Zero)
        {
            sb.Append('Z');
        }
        else
        {
            var offset = time.Offset;
            sb.Append(offset < TimeSpan.Zero ? '-' : '+')
              .Append(Math.Abs(offset.Hours).ToString("D2", CultureInfo.InvariantCulture))
              .Append(':')
              .Append(Math.Abs(offset.Minutes).ToString("D2", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}
