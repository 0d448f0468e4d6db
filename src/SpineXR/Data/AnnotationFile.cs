using System.Globalization;
using System.Text;
using SpineXR.Boxes;
using SpineXR.IO;

namespace SpineXR.Data;

/// <summary>Reads and writes VinDr-SpineXR annotation CSVs (<c>study_id, series_id, image_id, rad_id, lesion_type, xmin, ymin, xmax, ymax</c>).</summary>
public static class AnnotationFile
{
    /// <summary>The columns, in the order the official files use and we write.</summary>
    public static readonly IReadOnlyList<string> Columns =
        ["study_id", "series_id", "image_id", "rad_id", "lesion_type", "xmin", "ymin", "xmax", "ymax"];

    /// <summary>
    /// Reads every usable row. A missing column throws <see cref="InvalidDataException"/> naming the file and column;
    /// a bad row (non-numeric or partial box, empty image id) goes to <paramref name="issues"/> and is skipped.
    /// Extra columns are ignored.
    /// </summary>
    public static List<AnnotationRow> Read(string path, DatasetIssues? issues = null)
    {
        using var csv = CsvReader.Open(path);
        return Read(csv, issues);
    }

    public static List<AnnotationRow> Read(CsvReader csv, DatasetIssues? issues = null)
    {
        int[] col = Columns.Select(csv.Require).ToArray();
        var rows = new List<AnnotationRow>();
        string[]? r;
        while ((r = csv.Read()) != null)
        {
            string where = $"{csv.FileName}:{csv.RowLine}";
            string imageId = r[col[2]].Trim();
            if (imageId.Length == 0)
            {
                issues?.Add(DatasetIssueKind.BadRow, where, null, "empty image_id");
                continue;
            }
            string lesion = r[col[4]].Trim();
            BoxF? box = null;
            string[] coords = [r[col[5]].Trim(), r[col[6]].Trim(), r[col[7]].Trim(), r[col[8]].Trim()];
            int filled = coords.Count(c => c.Length > 0);
            if (filled == 4)
            {
                var v = new float[4];
                bool ok = true;
                for (int i = 0; i < 4; i++)
                    ok &= float.TryParse(coords[i], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) && float.IsFinite(v[i]);
                if (!ok)
                {
                    issues?.Add(DatasetIssueKind.BadRow, where, imageId, $"box is not four numbers: {string.Join(' ', coords)}");
                    continue;
                }
                box = new BoxF(v[0], v[1], v[2], v[3]);
            }
            else if (filled != 0)
            {
                issues?.Add(DatasetIssueKind.BadRow, where, imageId, "box has only some of xmin, ymin, xmax, ymax");
                continue;
            }
            if (lesion.Length == 0)
            {
                issues?.Add(DatasetIssueKind.BadRow, where, imageId, "empty lesion_type");
                continue;
            }
            rows.Add(new AnnotationRow(r[col[0]].Trim(), r[col[1]].Trim(), imageId, r[col[3]].Trim(), lesion, box));
        }
        return rows;
    }

    /// <summary>Writes rows atomically (coordinates in invariant culture, empty for <c>No finding</c>).</summary>
    public static void Write(string path, IEnumerable<AnnotationRow> rows)
    {
        var sb = new StringBuilder();
        CsvWriter.AppendRow(sb, Columns);
        foreach (var a in rows)
        {
            string F(float x) => x.ToString("0.##", CultureInfo.InvariantCulture);
            var b = a.Box;
            CsvWriter.AppendRow(sb, [a.StudyId, a.SeriesId, a.ImageId, a.RadId, a.LesionType,
                b.HasValue ? F(b.Value.X1) : "", b.HasValue ? F(b.Value.Y1) : "",
                b.HasValue ? F(b.Value.X2) : "", b.HasValue ? F(b.Value.Y2) : ""]);
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
