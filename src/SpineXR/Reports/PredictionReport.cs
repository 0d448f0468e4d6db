using System.Text;
using SpineXR.Data;
using SpineXR.Inference;

namespace SpineXR.Reports;

/// <summary>
/// `report.html` of `spinexr predict`: a summary table (verdicts, counts per class) and a card per image with
/// its overlay thumbnail and findings. Self-contained: thumbnails are embedded.
/// </summary>
public static class PredictionReport
{
    /// <param name="predictions">Per-image results, in output order.</param>
    /// <param name="thumbnail">JPEG or PNG bytes of an image's overlay thumbnail, or null when not available.</param>
    /// <param name="provenance">Models and thresholds used.</param>
    /// <param name="errors">Inputs that failed: file and reason.</param>
    public static string Build(IReadOnlyList<ImagePrediction> predictions, Func<ImagePrediction, byte[]?> thumbnail,
        PredictionProvenance provenance, IReadOnlyList<(string File, string Reason)> errors)
    {
        var w = new StringWriter();
        Write(w, predictions, thumbnail, provenance, errors);
        return w.ToString();
    }

    /// <summary>
    /// The page written as it is made: one image's thumbnail is in memory at a time, so a report over an archive
    /// of thousands of images costs no more memory than one over ten (the whole page as a string did).
    /// </summary>
    public static void Write(TextWriter output, IReadOnlyList<ImagePrediction> predictions, Func<ImagePrediction, byte[]?> thumbnail,
        PredictionProvenance provenance, IReadOnlyList<(string File, string Reason)> errors)
    {
        output.Write(Html.PageStart("SpineXR predictions"));
        var sb = new StringBuilder();
        int abnormal = predictions.Count(p => p.Verdict == "abnormal");
        sb.Append("<h2>Summary</h2>");
        sb.Append(Html.Table(["images", "abnormal", "normal", "failed", "abnormal threshold", "keep threshold"],
            [[predictions.Count.ToString(), abnormal.ToString(), (predictions.Count - abnormal).ToString(), errors.Count.ToString(),
              Html.Num(provenance.AbnormalThreshold), Html.Num(provenance.KeepThreshold)]]));

        var perClass = LesionTaxonomy.Classes.Select((c, i) => new
        {
            Name = c,
            Id = i,
            Boxes = predictions.Sum(p => p.Boxes.Count(b => b.ClassId == i)),
            Images = predictions.Count(p => p.Boxes.Any(b => b.ClassId == i)),
        });
        sb.Append(Html.Table(["class", "boxes", "images"],
            perClass.Select(c => (IReadOnlyList<string>)[$"<span class=\"swatch\" style=\"background:{ClassColors.Hex(c.Id)}\"></span>{Html.Escape(c.Name)}",
                c.Boxes.ToString(), c.Images.ToString()]), escape: false));

        sb.Append("<p>Classifiers: ").Append(Html.Escape(string.Join(", ", provenance.Classifiers)))
          .Append("<br>Detectors: ").Append(Html.Escape(string.Join(", ", provenance.Detectors)))
          .Append(provenance.Tta ? " (h-flip TTA)" : "").Append("</p>");

        if (errors.Count > 0)
        {
            sb.Append("<h2>Failed inputs</h2>");
            sb.Append(Html.Table(["file", "reason"], errors.Select(e => (IReadOnlyList<string>)[e.File, e.Reason])));
        }

        sb.Append("<h2>Images</h2><div class=\"grid\">");
        foreach (var p in predictions)
        {
            output.Write(sb);
            sb.Clear();
            sb.Append("<div class=\"card\">");
            if (thumbnail(p) is { } thumb) sb.Append("<img alt=\"").Append(Html.Escape(p.ImageId)).Append("\" src=\"").Append(Html.ImageDataUri(thumb)).Append("\">");
            sb.Append("<h3>").Append(Html.Escape(Path.GetFileName(p.File))).Append("</h3>");
            sb.Append("<div class=\"").Append(p.Verdict == "abnormal" ? "abnormal" : "normal").Append("\">")
              .Append(Html.Escape(p.Verdict)).Append(" · P(abnormal) = ").Append(Html.Num(p.AbnormalProbability)).Append("</div>");
            if (p.Boxes.Count == 0) sb.Append("<p>No lesion boxes kept.</p>");
            else
            {
                sb.Append("<ul class=\"findings\">");
                foreach (var b in p.Boxes)
                    sb.Append("<li><span class=\"swatch\" style=\"background:").Append(ClassColors.Hex(b.ClassId)).Append("\"></span>")
                      .Append(Html.Escape(b.Class)).Append(" ").Append(Html.Num(b.Score, "0.00")).Append(" [")
                      .Append(string.Join(", ", b.Xyxy.Select(v => Html.Num(v, "0")))).Append("]</li>");
                sb.Append("</ul>");
            }
            sb.Append("</div>");
        }
        sb.Append("</div>");
        output.Write(sb);
        output.Write(Html.PageEnd);
    }
}
