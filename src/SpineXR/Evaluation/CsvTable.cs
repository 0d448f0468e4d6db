// A small RFC 4180 CSV reader: header row, quoted fields, "" escapes; enough for annotation and prediction files.
using System.Text;

namespace SpineXR.Evaluation;

/// <summary>A CSV file read into a header and rows, with the 1-based line number of each row for error messages.</summary>
public sealed class CsvTable
{
    public required string Path { get; init; }
    public required IReadOnlyList<string> Header { get; init; }
    public required IReadOnlyList<(int Line, string[] Fields)> Rows { get; init; }

    /// <summary>Index of a column (case-insensitive, trimmed), or -1.</summary>
    public int Column(string name)
    {
        for (int i = 0; i < Header.Count; i++)
            if (string.Equals(Header[i].Trim(), name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>Index of a required column; throws InvalidDataException naming the file and the column.</summary>
    public int RequireColumn(string name)
    {
        int i = Column(name);
        return i >= 0 ? i : throw new InvalidDataException($"{Path}: missing column '{name}' (header: {string.Join(", ", Header)})");
    }

    public static CsvTable Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read ({e.Message})", e);
        }
        var rows = new List<(int, string[])>();
        string[]? header = null;
        int line = 1, i = 0;
        var field = new StringBuilder();
        var fields = new List<string>();
        while (i <= text.Length)
        {
            int rowLine = line;
            fields.Clear();
            bool endOfRow = false;
            while (!endOfRow)
            {
                field.Clear();
                if (i < text.Length && text[i] == '"')
                {
                    i++;
                    while (true)
                    {
                        if (i >= text.Length) throw new InvalidDataException($"{path} line {rowLine}: unterminated quoted field");
                        char c = text[i++];
                        if (c == '"')
                        {
                            if (i < text.Length && text[i] == '"') { field.Append('"'); i++; }
                            else break;
                        }
                        else { if (c == '\n') line++; field.Append(c); }
                    }
                }
                while (i < text.Length && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field.Append(text[i++]);
                fields.Add(field.ToString());
                if (i < text.Length && text[i] == ',') { i++; continue; }
                if (i < text.Length && text[i] == '\r') i++;
                if (i < text.Length && text[i] == '\n') i++;
                else if (i >= text.Length) i = text.Length + 1;
                line++;
                endOfRow = true;
            }
            if (fields.Count == 1 && fields[0].Length == 0) continue; // blank line
            if (header == null)
            {
                header = fields.ToArray();
                if (header.Length > 0 && header[0].StartsWith('\uFEFF')) header[0] = header[0][1..];
            }
            else rows.Add((rowLine, fields.ToArray()));
        }
        if (header == null) throw new InvalidDataException($"{path}: empty file (no header)");
        return new CsvTable { Path = path, Header = header, Rows = rows };
    }

    /// <summary>Quotes a field when it holds a comma, quote or newline.</summary>
    public static string Quote(string s) =>
        s.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
