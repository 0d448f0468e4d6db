// Ground truth for evaluation, read from the VinDr-SpineXR annotation CSV
// (study_id, series_id, image_id, rad_id, lesion_type, xmin, ymin, xmax, ymax).
// A minimal reader owned by the evaluation layer; the dataset layer's index can replace it behind the same records.
using System.Globalization;
using SpineXR.Data;

namespace SpineXR.Evaluation;

/// <summary>A ground-truth lesion box, xyxy in original image pixels (double precision, as the CSV gives it).</summary>
public readonly record struct TruthBox(int ClassId, double X1, double Y1, double X2, double Y2);

/// <summary>One image's ground truth: abnormal when any row names a finding other than "No finding".</summary>
public sealed record ImageTruth(string ImageId, bool Abnormal, IReadOnlyList<TruthBox> Boxes);

/// <summary>The ground truth of one split: images in ordinal image-id order (as COCOeval sorts image ids) and reader warnings.</summary>
public sealed record GroundTruthSet(IReadOnlyList<ImageTruth> Images, IReadOnlyList<string> Warnings)
{
    private Dictionary<string, int>? _index;

    /// <summary>Position of an image id in <see cref="Images"/>, or -1.</summary>
    public int IndexOf(string imageId)
    {
        _index ??= Images.Select((im, i) => (im.ImageId, i)).ToDictionary(p => p.ImageId, p => p.i, StringComparer.Ordinal);
        return _index.TryGetValue(imageId, out int i) ? i : -1;
    }

    public int BoxCount => Images.Sum(i => i.Boxes.Count);

    /// <summary>Reads <c>DATASET/annotations/&lt;split&gt;.csv</c>.</summary>
    public static GroundTruthSet ReadSplit(string dataset, string split)
    {
        string path = Path.Combine(dataset, "annotations", split + ".csv");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no annotations for split '{split}'", path);
        return Read(path);
    }

    /// <summary>Reads an annotation CSV. Rows with a bad box keep the image (and its abnormal label) and are reported.</summary>
    public static GroundTruthSet Read(string path)
    {
        var t = CsvTable.Read(path);
        int cImage = t.RequireColumn("image_id"), cType = t.RequireColumn("lesion_type");
        int cx1 = t.RequireColumn("xmin"), cy1 = t.RequireColumn("ymin"), cx2 = t.RequireColumn("xmax"), cy2 = t.RequireColumn("ymax");
        var warnings = new List<string>();
        var images = new Dictionary<string, (bool Abnormal, List<TruthBox> Boxes)>(StringComparer.Ordinal);
        var unknownTypes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (line, f) in t.Rows)
        {
            string Get(int c) => c < f.Length ? f[c].Trim() : "";
            string id = Get(cImage);
            if (id.Length == 0) { warnings.Add($"{path} line {line}: empty image_id, row skipped"); continue; }
            if (!images.TryGetValue(id, out var im)) images[id] = im = (false, []);
            string type = Get(cType);
            if (LesionTaxonomy.IsNoFinding(type)) continue;
            images[id] = im = (true, im.Boxes);
            int k = LesionTaxonomy.ClassIndex(type);
            if (k < 0) { unknownTypes[type] = unknownTypes.GetValueOrDefault(type) + 1; continue; }
            if (!TryNum(Get(cx1), out double x1) || !TryNum(Get(cy1), out double y1) || !TryNum(Get(cx2), out double x2) || !TryNum(Get(cy2), out double y2))
            {
                warnings.Add($"{path} line {line}: '{type}' without a valid box, box skipped (image still abnormal)");
                continue;
            }
            if (x2 <= x1 || y2 <= y1)
            {
                warnings.Add($"{path} line {line}: zero or negative area box ({x1}, {y1}, {x2}, {y2}), box skipped");
                continue;
            }
            im.Boxes.Add(new TruthBox(k, x1, y1, x2, y2));
        }
        foreach (var (type, n) in unknownTypes)
            warnings.Add($"{path}: {n} row(s) of lesion type '{type}' (not one of the 7 detected classes) count as abnormal, not as boxes");
        var list = images.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new ImageTruth(p.Key, p.Value.Abnormal, p.Value.Boxes)).ToList();
        return new GroundTruthSet(list, warnings);
    }

    private static bool TryNum(string s, out double v) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && double.IsFinite(v);
}
