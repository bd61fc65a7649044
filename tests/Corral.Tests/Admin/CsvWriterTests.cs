using Corral.Admin;

namespace Corral.Tests.Admin;

public sealed class CsvWriterTests
{
    [Fact]
    public void Field_CommasQuotesAndLineBreaks_QuotedWithQuotesDoubled()
    {
        var csv = new CsvWriter()
            .Row("name", "note")
            .Field("plain").Field("a,b").EndRow()
            .Field("say \"hi\"").Field("two\r\nlines").EndRow()
            .Field("lf\nonly").Field((string?)null).EndRow()
            .ToString();

        csv.Should().Be("name,note\r\nplain,\"a,b\"\r\n\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n\"lf\nonly\",\r\n");
    }

    [Fact]
    public void Field_Numbers_InvariantCultureAndEmptyForNull()
    {
        var csv = new CsvWriter().Field(12345L).Field(1.5).Field((double?)null).Field(true).EndRow().ToString();

        csv.Should().Be("12345,1.5,,true\r\n");
    }
}
