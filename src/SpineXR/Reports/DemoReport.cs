using System.Text;
using System.Text.Json;
using SpineXR.Data;

namespace SpineXR.Reports;

/// <summary>
/// `report/index.html` of `spinexr demo`: metrics tables (classifier, detector per class, overall pipeline) with
/// their 95% intervals, the ROC / PR / FROC plots and example overlays, all embedded in one file.
/// Reads the metrics JSON files the eval commands write (keys as docs/design.md), so it works on any run's outputs.
/// </summary>
public static class DemoReport
{
    /// <param name="title">Page title.</param>
    /// <param name="intro">One paragraph of plain text about the run (data, presets, timings).</param>
    /// <param name="classifierMetrics">Path of the classifier metrics.json, or null.</param>
    /// <param name="detectorMetrics">Path of the detector metrics.json, or null.</param>
    /// <param name="overallMetrics">Path of the overall (decision-rule) detector metrics.json, or null.</param>
    /// <param name="plots">PNG files to show, with captions.</param>
    /// <param name="examples">Overlay PNGs of example images, with captions.</param>
    public static string Build(string title, string intro, string? classifierMetrics, string? detectorMetrics, string? overallMetrics,
        IReadOnlyList<(string Png, string Caption)> plots, IReadOnlyList<(string Png, string Caption)> examples)
    {
        var sb = new StringBuilder();
        sb.Append("<p>").Append(Html.Escape(intro)).Append("</p>");

        if (Load(classifierMetrics) is { } c)
        {
            sb.Append("<h2>Classifier: normal vs abnormal</h2>");
            string[] keys = ["auroc", "sensitivity", "specificity", "precision", "f1"];
            sb.Append(Html.Table(["metric", "value (%)", "95% CI"],
                keys.Select(k => (IReadOnlyList<string>)[k.ToUpperInvariant() == "AUROC" ? "AUROC" : k, Html.Pct(Num(c, k)), Ci(c, k + "_ci")])));
            sb.Append("<p>Threshold (Youden's J): ").Append(Html.Num(Num(c, "threshold"))).Append(" · images: ")
              .Append(Html.Num(Num(c, "n_images"), "0")).Append("</p>");
        }
        foreach (var (path, name) in new[] { (detectorMetrics, "Detector"), (overallMetrics, "Overall pipeline (classifier + detector, decision rule)") })
        {
            if (Load(path) is not { } d) continue;
            sb.Append("<h2>").Append(Html.Escape(name)).Append(": AP@0.5 per class</h2>");
            var rows = new List<IReadOnlyList<string>>();
            if (d.TryGetProperty("ap50", out var ap))
                for (int k = 0; k < LesionTaxonomy.Classes.Count; k++)
                {
                    string cls = LesionTaxonomy.Classes[k];
                    double v = ap.TryGetProperty(cls, out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN;
                    rows.Add([$"<span class=\"swatch\" style=\"background:{ClassColors.Hex(k)}\"></span>{Html.Escape(cls)}", Html.Pct(v)]);
                }
            rows.Add(["<b>mAP@0.5</b>", $"<b>{Html.Pct(Num(d, "map50"))}</b> ({Ci(d, "map50_ci")})"]);
            sb.Append(Html.Table(["class", "AP@0.5 (%)"], rows, escape: false));
            sb.Append("<p>Images: ").Append(Html.Num(Num(d, "n_images"), "0")).Append(" · ground-truth boxes: ")
              .Append(Html.Num(Num(d, "n_boxes"), "0")).Append("</p>");
        }

        if (plots.Count > 0)
        {
            sb.Append("<h2>Curves</h2><div class=\"plots\">");
            foreach (var (png, caption) in plots.Where(p => File.Exists(p.Png)))
                sb.Append("<figure style=\"display:inline-block\"><img alt=\"").Append(Html.Escape(caption)).Append("\" src=\"")
                  .Append(Html.PngDataUri(File.ReadAllBytes(png))).Append("\"><figcaption>").Append(Html.Escape(caption)).Append("</figcaption></figure>");
            sb.Append("</div>");
        }
        if (examples.Count > 0)
        {
            sb.Append("<h2>Examples</h2><div class=\"grid\">");
            foreach (var (png, caption) in examples.Where(p => File.Exists(p.Png)))
                sb.Append("<div class=\"card\"><img alt=\"").Append(Html.Escape(caption)).Append("\" src=\"")
                  .Append(Html.PngDataUri(File.ReadAllBytes(png))).Append("\"><h3>").Append(Html.Escape(caption)).Append("</h3></div>");
            sb.Append("</div>");
        }
        return Html.Page(title, sb.ToString());
    }

    private static JsonElement? Load(string? path)
    {
        if (path == null || !File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.Clone();
    }

    private static double Num(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;

    private static string Ci(JsonElement e, string key)
    {
        if (!e.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 2) return "–";
        double lo = v[0].ValueKind == JsonValueKind.Number ? v[0].GetDouble() : double.NaN;
        double hi = v[1].ValueKind == JsonValueKind.Number ? v[1].GetDouble() : double.NaN;
        return Html.Pct(lo) + "–" + Html.Pct(hi);
    }
}
