// Metrics JSON (keys as docs/design.md, fractions in [0, 1], null for undefined values) and console tables in the
// layout of the paper's tables (percentages with the 95% interval in parentheses).
using System.Globalization;
using System.Text;
using System.Text.Json;
using SpineXR.Data;
using SpineXR.IO;
using SpineXR.Metrics;

namespace SpineXR.Evaluation;

/// <summary>Writes metrics files and formats result tables.</summary>
public static class MetricsReport
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary>Classifier metrics JSON: auroc, auroc_ci, threshold, sensitivity, specificity, f1, precision (+ _ci), n_images.</summary>
    public static void WriteClassifier(string path, ClassifierEvalReport r) => AtomicFile.Write(path, s =>
    {
        using var w = new Utf8JsonWriter(s, Indented);
        var res = r.Result;
        var b = res.Bootstrap;
        w.WriteStartObject();
        Num(w, "auroc", res.Auroc);
        Ci(w, "auroc_ci", b?.Auroc);
        Num(w, "threshold", res.Point.Threshold);
        Num(w, "sensitivity", res.Point.Sensitivity);
        Ci(w, "sensitivity_ci", b?.Sensitivity);
        Num(w, "specificity", res.Point.Specificity);
        Ci(w, "specificity_ci", b?.Specificity);
        Num(w, "f1", res.Point.F1);
        Ci(w, "f1_ci", b?.F1);
        Num(w, "precision", res.Point.Precision);
        Ci(w, "precision_ci", b?.Precision);
        w.WriteNumber("n_images", res.NImages);
        w.WriteNumber("n_abnormal", res.NPositive);
        w.WriteString("threshold_source", r.Options.Threshold.HasValue ? "given" : "youden");
        if (b != null)
        {
            w.WriteStartObject("bootstrap");
            w.WriteNumber("resamples", b.Resamples);
            w.WriteNumber("seed", r.Options.Seed);
            w.WriteNumber("confidence", r.Options.Confidence);
            w.WriteNumber("skipped_one_class_draws", b.SkippedDraws);
            w.WriteStartObject("mean");
            Num(w, "auroc", b.Auroc.Mean); Num(w, "sensitivity", b.Sensitivity.Mean); Num(w, "specificity", b.Specificity.Mean);
            Num(w, "f1", b.F1.Mean); Num(w, "precision", b.Precision.Mean);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteNumber("unknown_images", r.UnknownImages);
        w.WriteNumber("images_without_prediction", r.MissingImages);
        w.WriteStartObject("roc");
        Arr(w, "fpr", res.Curve.Fpr); Arr(w, "tpr", res.Curve.Tpr); Arr(w, "thresholds", res.Curve.Thresholds);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>Detector metrics JSON: map50, map50_ci, ap50 {class: value}, n_images, n_boxes, plus per-IoU AP and FROC.</summary>
    public static void WriteDetector(string path, DetectorEvalReport r, Action<Utf8JsonWriter>? extra = null) => AtomicFile.Write(path, s =>
    {
        using var w = new Utf8JsonWriter(s, Indented);
        var res = r.Result;
        w.WriteStartObject();
        Num(w, "map50", r.Map50);
        Ci(w, "map50_ci", r.Map50Ci);
        w.WriteStartObject("ap50");
        for (int k = 0; k < res.NumClasses; k++) Num(w, LesionTaxonomy.Classes[k], res.Ap[r.Iou50Index, k]);
        w.WriteEndObject();
        w.WriteNumber("n_images", r.NImages);
        w.WriteNumber("n_boxes", r.NTruth);
        w.WriteNumber("n_detections", r.NDetections);
        w.WriteNumber("unknown_images", r.UnknownImages);
        w.WriteStartArray("iou_thresholds");
        foreach (int t in r.RequestedIndices) w.WriteNumberValue(res.IouThresholds[t]);
        w.WriteEndArray();
        Num(w, "map", r.MapRequested);
        Ci(w, "map_ci", r.MapRequestedCi);
        w.WriteStartObject("ap");
        foreach (int t in r.RequestedIndices)
        {
            w.WriteStartObject(res.IouThresholds[t].ToString("0.###", CultureInfo.InvariantCulture));
            Num(w, "mean", res.MeanAp(t));
            for (int k = 0; k < res.NumClasses; k++) Num(w, LesionTaxonomy.Classes[k], res.Ap[t, k]);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartObject("recall50");
        for (int k = 0; k < res.NumClasses; k++) Num(w, LesionTaxonomy.Classes[k], res.Recall[r.Iou50Index, k]);
        w.WriteEndObject();
        w.WriteStartObject("froc");
        for (int i = 0; i < r.Froc.Length; i++) Num(w, r.Options.FrocRates[i].ToString("0.###", CultureInfo.InvariantCulture), r.Froc[i]);
        w.WriteEndObject();
        if (r.Map50Ci != null)
        {
            w.WriteStartObject("bootstrap");
            w.WriteNumber("resamples", r.Options.Resamples);
            w.WriteNumber("seed", r.Options.Seed);
            w.WriteNumber("confidence", r.Options.Confidence);
            Num(w, "map50_mean", r.Map50Ci.Value.Mean);
            w.WriteEndObject();
        }
        extra?.Invoke(w);
        w.WriteEndObject();
    });

    private static void Num(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    private static void Ci(Utf8JsonWriter w, string name, Interval? iv)
    {
        if (iv is not Interval i) { w.WriteNull(name); return; }
        w.WriteStartArray(name);
        if (double.IsFinite(i.Lower)) w.WriteNumberValue(i.Lower); else w.WriteNullValue();
        if (double.IsFinite(i.Upper)) w.WriteNumberValue(i.Upper); else w.WriteNullValue();
        w.WriteEndArray();
    }

    private static void Arr(Utf8JsonWriter w, string name, double[] v)
    {
        w.WriteStartArray(name);
        foreach (double x in v) if (double.IsFinite(x)) w.WriteNumberValue(x); else w.WriteNullValue();
        w.WriteEndArray();
    }

    /// <summary>"88.61 (87.19-90.02)": a fraction as a percentage with its interval.</summary>
    public static string Pct(double v, Interval? ci = null)
    {
        if (!double.IsFinite(v)) return "-";
        string s = (100 * v).ToString("0.00", CultureInfo.InvariantCulture);
        return ci is Interval i && double.IsFinite(i.Lower) && double.IsFinite(i.Upper)
            ? $"{s} ({(100 * i.Lower).ToString("0.00", CultureInfo.InvariantCulture)}-{(100 * i.Upper).ToString("0.00", CultureInfo.InvariantCulture)})"
            : s;
    }

    /// <summary>The classifier table of the paper (Table 3 layout), one row.</summary>
    public static string ClassifierTable(string name, ClassifierEvalReport r)
    {
        var res = r.Result;
        var b = res.Bootstrap;
        string[] head = ["Model", "AUROC (%)", "F1 (%)", "Sensitivity (%)", "Specificity (%)", "Precision (%)", "Threshold"];
        string[] row = [name, Pct(res.Auroc, b?.Auroc), Pct(res.Point.F1, b?.F1), Pct(res.Point.Sensitivity, b?.Sensitivity),
            Pct(res.Point.Specificity, b?.Specificity), Pct(res.Point.Precision, b?.Precision),
            res.Point.Threshold.ToString("0.0000", CultureInfo.InvariantCulture)];
        return Table(head, [row]) + $"{res.NImages} images, {res.NPositive} abnormal" +
               (b != null ? $"; 95% CI from {b.Resamples} bootstrap resamples (seed {r.Options.Seed})" : "") + "\n";
    }

    /// <summary>The detector table of the paper (Table 2 layout): AP@0.5 per class and mAP, in percent.</summary>
    public static string DetectorTable(string name, DetectorEvalReport r)
    {
        var res = r.Result;
        var head = new List<string> { "Model" };
        head.AddRange(LesionTaxonomy.Classes);
        head.Add("mAP@0.5 (%)");
        var rows = new List<string[]>();
        foreach (int t in r.RequestedIndices.Append(r.Iou50Index).Distinct().OrderBy(t => res.IouThresholds[t]))
        {
            var row = new List<string> { t == r.Iou50Index ? name : $"{name} @{res.IouThresholds[t]:0.##}" };
            for (int k = 0; k < res.NumClasses; k++) row.Add(Pct(res.Ap[t, k]));
            row.Add(t == r.Iou50Index ? Pct(res.MeanAp(t), r.Map50Ci) : Pct(res.MeanAp(t)));
            rows.Add(row.ToArray());
        }
        var sb = new StringBuilder(Table(head.ToArray(), rows));
        sb.Append($"{r.NImages} images, {r.NTruth} boxes, {r.NDetections} detections; AP: COCO 101-point, maxDets {r.Options.MaxDetections}");
        if (r.RequestedIndices.Length > 1) sb.Append($"; mAP over IoU {string.Join(",", r.RequestedIndices.Select(t => res.IouThresholds[t].ToString("0.##", CultureInfo.InvariantCulture)))}: {Pct(r.MapRequested, r.MapRequestedCi)}");
        sb.Append('\n');
        sb.Append("FROC sensitivity (%) at FP/image " + string.Join("  ", r.Options.FrocRates.Select((x, i) => $"{x:0.###}: {Pct(r.Froc[i])}")) + "\n");
        return sb.ToString();
    }

    /// <summary>A plain text table with a header rule, columns padded.</summary>
    public static string Table(string[] head, IReadOnlyList<string[]> rows)
    {
        var width = head.Select(h => h.Length).ToArray();
        foreach (var r in rows) for (int i = 0; i < r.Length; i++) width[i] = Math.Max(width[i], r[i].Length);
        var sb = new StringBuilder();
        void Line(string[] cells) => sb.AppendLine(string.Join("  ", cells.Select((c, i) => c.PadRight(width[i]))).TrimEnd());
        Line(head);
        sb.AppendLine(string.Join("  ", width.Select(w => new string('-', w))));
        foreach (var r in rows) Line(r);
        return sb.ToString();
    }
}
