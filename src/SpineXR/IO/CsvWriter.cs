using System.Globalization;
using System.Text;

namespace SpineXR.IO;

/// <summary>Writes RFC 4180 CSV rows; fields with commas, quotes or line breaks are quoted. LF line ends, UTF-8 without BOM.</summary>
public static class CsvWriter
{
    /// <summary>A field as CSV text.</summary>
    public static string Escape(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;

    /// <summary>Appends one row and a line end.</summary>
    public static void AppendRow(StringBuilder sb, IEnumerable<string> fields)
    {
        bool first = true;
        foreach (var f in fields)
        {
            if (!first) sb.Append(',');
            sb.Append(Escape(f));
            first = false;
        }
        sb.Append('\n');
    }

    /// <summary>A number in invariant culture, shortest form that round-trips ("12.5", "3").</summary>
    public static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Writes a whole table atomically.</summary>
    public static void WriteFile(string path, IReadOnlyList<string> header, IEnumerable<IEnumerable<string>> rows)
    {
        var sb = new StringBuilder();
        AppendRow(sb, header);
        foreach (var r in rows) AppendRow(sb, r);
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
