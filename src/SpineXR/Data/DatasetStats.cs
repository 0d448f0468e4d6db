using System.Text.Json.Serialization;

namespace SpineXR.Data;

/// <summary>Five-number summary of a distribution.</summary>
public sealed record Quantiles(double Min, double P25, double Median, double P75, double Max)
{
    public static Quantiles Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return new Quantiles(0, 0, 0, 0, 0);
        var s = values.Order().ToArray();
        double Q(double q)
        {
            double pos = q * (s.Length - 1);
            int i = (int)Math.Floor(pos);
            return i + 1 < s.Length ? s[i] + (s[i + 1] - s[i]) * (pos - i) : s[i];
        }
        return new Quantiles(s[0], Q(0.25), Q(0.5), Q(0.75), s[^1]);
    }
}

/// <summary>Counts of one split (or of all splits): images, studies, labels, boxes per class, box sizes.</summary>
public sealed record SplitStats(
    string Split, int Images, int Studies, int Normal, int Abnormal, int Boxes,
    [property: JsonPropertyName("boxes_per_class")] IReadOnlyDictionary<string, int> BoxesPerClass,
    [property: JsonPropertyName("images_per_class")] IReadOnlyDictionary<string, int> ImagesPerClass,
    [property: JsonPropertyName("findings")] IReadOnlyDictionary<string, int> Findings,
    [property: JsonPropertyName("box_width_px")] Quantiles BoxWidth,
    [property: JsonPropertyName("box_height_px")] Quantiles BoxHeight,
    [property: JsonPropertyName("box_side_fraction")] Quantiles BoxSideFraction,
    [property: JsonPropertyName("image_width_px")] Quantiles ImageWidth,
    [property: JsonPropertyName("image_height_px")] Quantiles ImageHeight)
{
    /// <summary>Statistics of a set of images. Box side fraction = sqrt(box area) / sqrt(image area).</summary>
    public static SplitStats Of(string split, IReadOnlyList<DatasetImage> images)
    {
        var perClass = LesionTaxonomy.Classes.ToDictionary(c => c, _ => 0);
        var imagesPerClass = LesionTaxonomy.Classes.ToDictionary(c => c, _ => 0);
        var findings = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var bw = new List<double>();
        var bh = new List<double>();
        var frac = new List<double>();
        foreach (var im in images)
        {
            foreach (var b in im.Boxes)
            {
                perClass[LesionTaxonomy.Classes[b.ClassId]]++;
                bw.Add(b.Box.Width);
                bh.Add(b.Box.Height);
                frac.Add(Math.Sqrt(b.Box.Area) / Math.Sqrt((double)im.Width * im.Height));
            }
            foreach (int c in im.Boxes.Select(b => b.ClassId).Distinct()) imagesPerClass[LesionTaxonomy.Classes[c]]++;
            foreach (var f in im.Findings) findings[f] = findings.GetValueOrDefault(f) + 1;
        }
        return new SplitStats(split, images.Count, images.Select(i => i.StudyId).Distinct().Count(),
            images.Count(i => !i.IsAbnormal), images.Count(i => i.IsAbnormal), bw.Count, perClass, imagesPerClass, findings,
            Quantiles.Of(bw), Quantiles.Of(bh), Quantiles.Of(frac),
            Quantiles.Of(images.Select(i => (double)i.Width).ToList()), Quantiles.Of(images.Select(i => (double)i.Height).ToList()));
    }
}
