// ROC curve and AUROC with scikit-learn 1.2 semantics (sklearn.metrics.roc_curve / roc_auc_score):
// one point per distinct score (descending), collinear points dropped (drop_intermediate), a first
// point (0, 0) whose threshold is max(score) + 1 (1.2.x; 1.3+ uses +inf), AUROC by trapezoids.
namespace SpineXR.Metrics;

/// <summary>A ROC curve: false/true positive rates at decreasing thresholds (a point scores positive when score &gt;= threshold).</summary>
public sealed record RocCurve(double[] Fpr, double[] Tpr, double[] Thresholds)
{
    public int Count => Fpr.Length;

    /// <summary>Area under the curve by the trapezoidal rule (sklearn.metrics.auc).</summary>
    public double Auc()
    {
        double area = 0;
        for (int i = 1; i < Fpr.Length; i++) area += (Fpr[i] - Fpr[i - 1]) * (Tpr[i] + Tpr[i - 1]) / 2.0;
        return area;
    }

    /// <summary>Index of the first maximum of Youden's J = TPR - FPR, as <c>np.argmax(tpr - fpr)</c>.</summary>
    public int YoudenIndex()
    {
        int best = 0;
        double bestJ = double.NegativeInfinity;
        for (int i = 0; i < Fpr.Length; i++)
        {
            double j = Tpr[i] - Fpr[i];
            if (j > bestJ) { bestJ = j; best = i; }
        }
        return best;
    }

    /// <summary>
    /// The curve index the official evaluator uses for a fixed threshold:
    /// <c>len(thr) - 1 - bisect_right(flip(thr), t)</c>, i.e. the last point whose threshold is strictly above t.
    /// </summary>
    public int OfficialIndexForThreshold(double threshold)
    {
        int atOrBelow = 0; // bisect_right on the ascending thresholds = how many are <= t
        foreach (double th in Thresholds) if (th <= threshold) atOrBelow++;
        int i = Thresholds.Length - 1 - atOrBelow;
        return i < 0 ? i + Thresholds.Length : i; // numpy's negative index wraps: -1 is the last point
    }
}

/// <summary>ROC computations over scores and binary labels.</summary>
public static class Roc
{
    /// <summary>As <c>roc_curve(labels, scores, drop_intermediate)</c> of scikit-learn 1.2.</summary>
    public static RocCurve Curve(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, bool dropIntermediate = true)
    {
        int[] order = SortDescending(scores);
        var counts = new int[scores.Length];
        counts.AsSpan().Fill(1);
        return CurveFromOrder(scores, labels, order, counts, dropIntermediate);
    }

    /// <summary>As <c>roc_auc_score(labels, scores)</c>; throws when only one class is present.</summary>
    public static double Auroc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        RequireBothClasses(labels);
        return Curve(scores, labels).Auc();
    }

    internal static void RequireBothClasses(ReadOnlySpan<bool> labels)
    {
        bool pos = labels.Contains(true), neg = labels.Contains(false);
        if (!pos || !neg)
            throw new ArgumentException("AUROC is undefined: only one class present in the labels", nameof(labels));
    }

    /// <summary>Indices of <paramref name="scores"/> by decreasing score; throws on NaN.</summary>
    public static int[] SortDescending(ReadOnlySpan<double> scores)
    {
        var keys = new double[scores.Length];
        var idx = new int[scores.Length];
        for (int i = 0; i < scores.Length; i++)
        {
            if (double.IsNaN(scores[i])) throw new ArgumentException($"score {i} is NaN", nameof(scores));
            keys[i] = -scores[i];
            idx[i] = i;
        }
        Array.Sort(keys, idx);
        return idx;
    }

    /// <summary>
    /// The curve for a multiset of samples: sample i counted <paramref name="counts"/>[i] times, visited in
    /// <paramref name="order"/> (decreasing score). Used directly by the bootstrap, so a resample costs O(n).
    /// </summary>
    internal static RocCurve CurveFromOrder(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, int[] order,
        ReadOnlySpan<int> counts, bool dropIntermediate)
    {
        // Distinct-threshold cumulative counts (sklearn's _binary_clf_curve).
        var thr = new double[order.Length];
        var tps = new double[order.Length];
        var fps = new double[order.Length];
        int n = 0;
        double tp = 0, fp = 0;
        int k = 0;
        while (k < order.Length)
        {
            double s = scores[order[k]];
            bool any = false;
            while (k < order.Length && scores[order[k]] == s)
            {
                int i = order[k++];
                int c = counts[i];
                if (c == 0) continue;
                any = true;
                if (labels[i]) tp += c; else fp += c;
            }
            if (!any) continue;
            thr[n] = s; tps[n] = tp; fps[n] = fp; n++;
        }
        return Finish(thr, tps, fps, n, dropIntermediate);
    }

    private static RocCurve Finish(double[] thr, double[] tps, double[] fps, int n, bool drop)
    {
        var keep = new List<int>(n);
        if (drop && n > 2)
        {
            keep.Add(0);
            for (int i = 1; i < n - 1; i++)
            {
                double d2f = fps[i + 1] - 2 * fps[i] + fps[i - 1];
                double d2t = tps[i + 1] - 2 * tps[i] + tps[i - 1];
                if (d2f != 0 || d2t != 0) keep.Add(i);
            }
            keep.Add(n - 1);
        }
        else for (int i = 0; i < n; i++) keep.Add(i);

        int m = keep.Count + 1;
        var fpr = new double[m];
        var tpr = new double[m];
        var th = new double[m];
        double fpTotal = n > 0 ? fps[n - 1] : 0, tpTotal = n > 0 ? tps[n - 1] : 0;
        th[0] = n > 0 ? thr[keep[0]] + 1 : 1;
        for (int j = 0; j < keep.Count; j++)
        {
            int i = keep[j];
            th[j + 1] = thr[i];
            fpr[j + 1] = fps[i];
            tpr[j + 1] = tps[i];
        }
        for (int j = 0; j < m; j++)
        {
            fpr[j] = fpTotal > 0 ? fpr[j] / fpTotal : double.NaN;
            tpr[j] = tpTotal > 0 ? tpr[j] / tpTotal : double.NaN;
        }
        return new RocCurve(fpr, tpr, th);
    }
}
