using System.Text;

namespace SpineXR.IO;

/// <summary>
/// RFC 4180 CSV reader: comma-separated fields, double-quoted fields with <c>""</c> escapes and embedded
/// commas or line breaks, CRLF or LF line ends, a UTF-8 BOM skipped. The first row is the header;
/// columns are looked up by name (case-insensitive, trimmed), so extra columns and any order are fine.
/// </summary>
public sealed class CsvReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly StringBuilder _field = new();
    private readonly Dictionary<string, int> _columns = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Longest field accepted; a larger one means a runaway quote or a binary file.</summary>
    public const int MaxFieldLength = 1 << 20;

    /// <summary>File name used in error messages.</summary>
    public string FileName { get; }

    /// <summary>Header names as written.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>1-based line number where the last row returned by <see cref="Read"/> started.</summary>
    public long RowLine { get; private set; }

    private long _line = 1;

    public CsvReader(TextReader reader, string fileName)
    {
        _reader = reader;
        FileName = fileName;
        if (_reader.Peek() == '\uFEFF') _reader.Read();
        var header = ReadRow() ?? throw new InvalidDataException($"{fileName}: empty file, no header row");
        Header = header;
        for (int i = 0; i < header.Length; i++) _columns.TryAdd(header[i].Trim(), i);
    }

    /// <summary>Opens a file (UTF-8).</summary>
    public static CsvReader Open(string path) =>
        new(new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, 1 << 16), path);

    /// <summary>Index of a column, or -1.</summary>
    public int IndexOf(string name) => _columns.TryGetValue(name, out int i) ? i : -1;

    /// <summary>Index of a column that must exist; otherwise <see cref="MissingColumnException"/> naming the file and the column.</summary>
    public int Require(string name) =>
        IndexOf(name) is int i and >= 0 ? i : throw new MissingColumnException(FileName, name);

    /// <summary>The next data row (blank lines skipped), or null at the end. Short rows are padded with empty fields.</summary>
    public string[]? Read()
    {
        while (true)
        {
            var row = ReadRow();
            if (row == null) return null;
            if (row.Length == 1 && row[0].Length == 0) continue;
            if (row.Length < Header.Count)
            {
                var padded = new string[Header.Count];
                Array.Copy(row, padded, row.Length);
                for (int i = row.Length; i < padded.Length; i++) padded[i] = "";
                row = padded;
            }
            return row;
        }
    }

    private string[]? ReadRow()
    {
        int c = _reader.Read();
        if (c < 0) return null;
        RowLine = _line;
        var fields = new List<string>();
        _field.Clear();
        bool quoted = false, wasQuoted = false;
        while (true)
        {
            if (quoted)
            {
                if (c < 0) throw new InvalidDataException($"{FileName}:{RowLine}: unterminated quoted field");
                if (c == '"')
                {
                    if (_reader.Peek() == '"') { _reader.Read(); _field.Append('"'); }
                    else quoted = false;
                }
                else
                {
                    if (c == '\n') _line++;
                    _field.Append((char)c);
                }
            }
            else if (c == '"' && _field.Length == 0 && !wasQuoted)
            {
                quoted = wasQuoted = true;
            }
            else if (c == ',')
            {
                fields.Add(_field.ToString());
                _field.Clear();
                wasQuoted = false;
            }
            else if (c == '\r' || c == '\n' || c < 0)
            {
                if (c == '\r' && _reader.Peek() == '\n') _reader.Read();
                if (c >= 0) _line++;
                fields.Add(_field.ToString());
                return fields.ToArray();
            }
            else
            {
                _field.Append((char)c);
            }
            if (_field.Length > MaxFieldLength) throw new InvalidDataException($"{FileName}:{RowLine}: field longer than {MaxFieldLength} characters");
            c = _reader.Read();
        }
    }

    public void Dispose() => _reader.Dispose();
}

/// <summary>A CSV file lacks a column the reader needs; the message names the file and the column.</summary>
public sealed class MissingColumnException(string file, string column)
    : FormatException($"{file}: missing column '{column}'")
{
    public string File { get; } = file;
    public string Column { get; } = column;
}
