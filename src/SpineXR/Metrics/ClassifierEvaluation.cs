// Image-level classifier evaluation as the official VinDr-SpineXR ClassificationEvaluator: AUROC, Youden threshold,
// sensitivity/specificity/precision/F1, and a bootstrap of 10,000 resamples (numpy RandomState(1999).randint(N, size=N)
// each), resamples with a single class skipped, the threshold fixed from the full set, percentile bounds.
namespace SpineXR.Metrics;

/// <summary>Options of <see cref="ClassifierEvaluation"/>.</summary>
public sealed record ClassifierEvalOptions
{
    /// <summary>Bootstrap resamples that count (skipped one-class draws are redrawn); 0 disables the bootstrap. Official: 10,000.</summary>
    public int Resamples { get; init; } = 10_000;

    /// <summary>Seed of numpy's RandomState; the official configuration uses 1999.</summary>
    public uint Seed { get; init; } = 1999;

    /// <summary>Confidence level of the percentile interval.</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>Decision threshold; null = Youden's J on the full-set ROC curve.</summary>
    public double? Threshold { get; init; }

    public void Validate()
    {
        if (Resamples < 0) throw new ArgumentException("must be >= 0", nameof(Resamples));
        if (Confidence is <= 0 or >= 1) throw new ArgumentException("must be in (0, 1)", nameof(Confidence));
        if (Threshold is double t && !double.IsFinite(t)) throw new ArgumentException("must be finite", nameof(Threshold));
    }
}

/// <summary>Bootstrap summary: mean and percentile interval of each metric, plus a pointwise TPR band for plots.</summary>
public sealed record ClassifierBootstrap(int Resamples, int SkippedDraws, Interval Auroc, Interval Sensitivity,
    Interval Specificity, Interval Precision, Interval F1, double[] BandFpr, double[] BandTprLower, double[] BandTprUpper);

/// <summary>Full classifier evaluation result.</summary>
public sealed record ClassifierResult(int NImages, int NPositive, double Auroc, RocCurve Curve, int PointIndex,
    OperatingPoint Point, ClassifierBootstrap? Bootstrap);

/// <summary>Evaluates abnormal-probability scores against image labels.</summary>
public static class ClassifierEvaluation
{
    private const int BandPoints = 101;

    public static ClassifierResult Evaluate(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, ClassifierEvalOptions? options = null)
    {
        options ??= new ClassifierEvalOptions();
        options.Validate();
        if (scores.Length != labels.Length) throw new ArgumentException("scores and labels differ in length");
        Roc.RequireBothClasses(labels);
        int n = scores.Length;
        int positives = 0;
        foreach (bool l in labels) if (l) positives++;

        int[] order = Roc.SortDescending(scores);
        var ones = new int[n];
        ones.AsSpan().Fill(1);
        RocCurve curve = Roc.CurveFromOrder(scores, labels, order, ones, dropIntermediate: true);
        double auroc = curve.Auc();

        int index;
        double threshold;
        OperatingPoint point;
        if (options.Threshold is double given)
        {
            threshold = given;
            index = curve.OfficialIndexForThreshold(given);
            point = BinaryMetrics.AtThreshold(scores, labels, given);
        }
        else
        {
            index = curve.YoudenIndex();
            threshold = curve.Thresholds[index];
            point = Official(curve, index, threshold, scores, labels, ones, positives);
        }

        ClassifierBootstrap? boot = options.Resamples > 0
            ? Bootstrap(scores, labels, order, threshold, options) : null;
        return new ClassifierResult(n, positives, auroc, curve, index, point, boot);
    }

    private static OperatingPoint Official(RocCurve curve, int index, double t, ReadOnlySpan<double> scores,
        ReadOnlySpan<bool> labels, ReadOnlySpan<int> counts, double positives)
    {
        double tp = 0, called = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            if (counts[i] == 0 || !(scores[i] >= t)) continue;
            called += counts[i];
            if (labels[i]) tp += counts[i];
        }
        return BinaryMetrics.OfficialAtIndex(curve, index, t, positives, tp, called);
    }

    private static ClassifierBootstrap Bootstrap(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, int[] order,
        double threshold, ClassifierEvalOptions o)
    {
        int n = scores.Length, b = o.Resamples;
        var rng = new NumpyRandom(o.Seed);
        var counts = new int[n];
        var auc = new double[b]; var sens = new double[b]; var spec = new double[b]; var prec = new double[b]; var f1 = new double[b];
        var band = new double[BandPoints][];
        for (int g = 0; g < BandPoints; g++) band[g] = new double[b];
        int done = 0, skipped = 0;
        while (done < b)
        {
            Array.Clear(counts);
            int pos = 0;
            for (int k = 0; k < n; k++)
            {
                int i = rng.NextInt(n);
                counts[i]++;
                if (labels[i]) pos++;
            }
            if (pos == 0 || pos == n) { skipped++; continue; }
            RocCurve c = Roc.CurveFromOrder(scores, labels, order, counts, dropIntermediate: true);
            auc[done] = c.Auc();
            OperatingPoint p = Official(c, c.OfficialIndexForThreshold(threshold), threshold, scores, labels, counts, pos);
            sens[done] = p.Sensitivity; spec[done] = p.Specificity; prec[done] = p.Precision; f1[done] = p.F1;
            int j = 0;
            for (int g = 0; g < BandPoints; g++) band[g][done] = TprAt(c, g / (double)(BandPoints - 1), ref j);
            done++;
        }
        var fprGrid = new double[BandPoints];
        var lo = new double[BandPoints];
        var hi = new double[BandPoints];
        for (int g = 0; g < BandPoints; g++)
        {
            fprGrid[g] = g / (double)(BandPoints - 1);
            Interval iv = Percentile.MeanCi(band[g], o.Confidence);
            lo[g] = iv.Lower; hi[g] = iv.Upper;
        }
        return new ClassifierBootstrap(b, skipped, Percentile.MeanCi(auc, o.Confidence), Percentile.MeanCi(sens, o.Confidence),
            Percentile.MeanCi(spec, o.Confidence), Percentile.MeanCi(prec, o.Confidence), Percentile.MeanCi(f1, o.Confidence),
            fprGrid, lo, hi);
    }

    /// <summary>TPR of the curve at false-positive rate x (linear between points; the highest TPR on a vertical step).</summary>
    /// <param name="j">Search start; advanced for the next, larger x.</param>
    internal static double TprAt(RocCurve c, double x, ref int j)
    {
        double[] f = c.Fpr, t = c.Tpr;
        while (j + 1 < f.Length && f[j + 1] <= x) j++;
        if (j + 1 >= f.Length || f[j + 1] == f[j]) return t[j];
        return t[j] + (t[j + 1] - t[j]) * (x - f[j]) / (f[j + 1] - f[j]);
    }
}
