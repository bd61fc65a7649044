using System.Globalization;
using System.Text;

namespace Corral.Admin;

/// <summary>
/// CSV as RFC 4180 writes it: comma-separated fields, CRLF line ends, and a field holding a comma, a double quote,
/// CR or LF put in double quotes with its quotes doubled. Numbers in the invariant culture; null is an empty field.
/// </summary>
internal sealed class CsvWriter
{
    private readonly StringBuilder _text = new();
    private bool _lineStarted;

    /// <summary>Writes a field of text.</summary>
    public CsvWriter Field(string? value)
    {
        Separate();
        if (value is null)
        {
            return this;
        }

        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            _text.Append(value);
            return this;
        }

        _text.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        return this;
    }

    public CsvWriter Field(long value)
    {
        Separate();
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    public CsvWriter Field(double? value)
    {
        Separate();
        if (value is { } v)
        {
            _text.Append(v.ToString("0.###", CultureInfo.InvariantCulture));
        }

        return this;
    }

    public CsvWriter Field(bool value) => Field(value ? "true" : "false");

    /// <summary>Writes a row of text fields (a header).</summary>
    public CsvWriter Row(params ReadOnlySpan<string> fields)
    {
        foreach (var field in fields)
        {
            Field(field);
        }

        return EndRow();
    }

    public CsvWriter EndRow()
    {
        _text.Append("\r\n");
        _lineStarted = false;
        return this;
    }

    public override string ToString() => _text.ToString();

    private void Separate()
    {
        if (_lineStarted)
        {
            _text.Append(',');
        }

        _lineStarted = true;
    }
}
