using SpineXR.IO;

namespace SpineXR.Tests.IO;

public class CsvReaderTests
{
    private static CsvReader Open(string text) => new(new StringReader(text), "t.csv");

    [Fact]
    public void QuotedFieldsKeepCommasQuotesAndLineBreaks()
    {
        using var csv = Open("\uFEFFa,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\nplain,,last\n");
        Assert.Equal(["a", "b", "c"], csv.Header);
        Assert.Equal(["x, y", "say \"hi\"", "two\nlines"], csv.Read()!);
        Assert.Equal(["plain", "", "last"], csv.Read()!);
        Assert.Equal(4, csv.RowLine);
        Assert.Null(csv.Read());
    }

    [Fact]
    public void ColumnsAreFoundByNameInAnyOrderAndShortRowsArePadded()
    {
        using var csv = Open("B , a,extra\n1,2\n\n");
        Assert.Equal(1, csv.Require("a"));
        Assert.Equal(0, csv.Require("b"));
        Assert.Equal(["1", "2", ""], csv.Read()!);
        Assert.Null(csv.Read());
    }

    [Fact]
    public void MissingColumnNamesFileAndColumn()
    {
        using var csv = Open("a,b\n");
        var e = Assert.Throws<MissingColumnException>(() => csv.Require("xmin"));
        Assert.Contains("t.csv", e.Message);
        Assert.Contains("'xmin'", e.Message);
    }

    [Fact]
    public void UnterminatedQuoteIsAnErrorWithTheLine()
    {
        using var csv = Open("a\nok\n\"never closed\n");
        csv.Read();
        var e = Assert.Throws<InvalidDataException>(() => csv.Read()!);
        Assert.Contains("t.csv:3", e.Message);
    }

    [Fact]
    public void WriterQuotesOnlyWhatNeedsIt()
    {
        Assert.Equal("plain", CsvWriter.Escape("plain"));
        Assert.Equal("\"a,b\"", CsvWriter.Escape("a,b"));
        Assert.Equal("\"q\"\"q\"", CsvWriter.Escape("q\"q"));
    }
}
