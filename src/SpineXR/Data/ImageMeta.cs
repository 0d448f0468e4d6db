using System.Globalization;
using SpineXR.IO;

namespace SpineXR.Data;

/// <summary>
/// Header facts about one image file, one row of <c>spinexr dicom info</c> (its column set and order).
/// The dataset index needs <see cref="Rows"/> and <see cref="Columns"/> to clip boxes; the rest rides along.
/// </summary>
public sealed class ImageMeta
{
    /// <summary>The columns of <c>spinexr dicom info</c> (docs/design.md), which <c>*_meta.csv</c> files share.</summary>
    public static readonly IReadOnlyList<string> CsvColumns =
    [
        "file", "image_id", "study_id", "series_id", "patient_id", "modality", "body_part", "patient_sex", "patient_age",
        "rows", "columns", "bits_allocated", "bits_stored", "pixel_representation", "photometric", "transfer_syntax",
        "window_center", "window_width", "pixel_spacing", "file_size",
    ];

    private readonly string[] _values;

    /// <summary>From values in <see cref="CsvColumns"/> order (missing trailing values are empty).</summary>
    public ImageMeta(IReadOnlyList<string> values)
    {
        _values = new string[CsvColumns.Count];
        for (int i = 0; i < _values.Length; i++) _values[i] = i < values.Count ? values[i] ?? "" : "";
        Rows = ParseInt(Get("rows"));
        Columns = ParseInt(Get("columns"));
        FileSize = long.TryParse(Get("file_size"), NumberStyles.Integer, CultureInfo.InvariantCulture, out long s) ? s : -1;
    }

    /// <summary>From a dictionary keyed by column name (absent keys are empty).</summary>
    public static ImageMeta FromFields(IReadOnlyDictionary<string, string> fields) =>
        new(CsvColumns.Select(c => fields.TryGetValue(c, out var v) ? v : "").ToArray());

    public int Rows { get; }
    public int Columns { get; }

    /// <summary>File size in bytes when the row was made; a different size on disk means the row is stale.</summary>
    public long FileSize { get; }

    public string File => Get("file");

    /// <summary>A column's value by name, "" when absent.</summary>
    public string Get(string column)
    {
        for (int i = 0; i < CsvColumns.Count; i++)
            if (CsvColumns[i] == column) return _values[i];
        return "";
    }

    public IReadOnlyList<string> Values => _values;

    private static int ParseInt(string s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : 0;
}

/// <summary>Reads and writes <c>*_meta.csv</c> files (the <c>dicom info</c> format), keyed by file stem (= image id).</summary>
public static class ImageMetaFile
{
    /// <summary>Rows by file stem. Columns beyond those of <c>dicom info</c> are ignored; missing ones read as empty.</summary>
    public static Dictionary<string, ImageMeta> Read(string path)
    {
        using var csv = CsvReader.Open(path);
        int fileCol = csv.Require("file");
        csv.Require("rows");
        csv.Require("columns");
        int[] map = ImageMeta.CsvColumns.Select(csv.IndexOf).ToArray();
        var d = new Dictionary<string, ImageMeta>(StringComparer.Ordinal);
        string[]? r;
        while ((r = csv.Read()) != null)
        {
            var values = map.Select(i => i >= 0 && i < r.Length ? r[i] : "").ToArray();
            d[Path.GetFileNameWithoutExtension(r[fileCol].Trim())] = new ImageMeta(values);
        }
        return d;
    }

    public static void Write(string path, IEnumerable<ImageMeta> rows) =>
        CsvWriter.WriteFile(path, ImageMeta.CsvColumns, rows.OrderBy(m => m.File, StringComparer.Ordinal).Select(m => m.Values));
}
