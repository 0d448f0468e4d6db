// Threshold metrics of a binary classifier, as the official VinDr-SpineXR evaluator reports them.
namespace SpineXR.Metrics;

/// <summary>Metrics at one decision threshold (a sample is called positive when score &gt;= Threshold). Fractions in [0, 1].</summary>
public readonly record struct OperatingPoint(double Threshold, double Sensitivity, double Specificity, double Precision, double F1);

/// <summary>Sensitivity, specificity, precision and F1 of scores against labels.</summary>
public static class BinaryMetrics
{
    /// <summary>Counts at <paramref name="threshold"/>: the plain confusion-matrix metrics (F1 as sklearn's f1_score, 0 when undefined).</summary>
    public static OperatingPoint AtThreshold(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels, double threshold)
    {
        long tp = 0, fp = 0, fn = 0, tn = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            bool called = scores[i] >= threshold;
            if (labels[i]) { if (called) tp++; else fn++; }
            else { if (called) fp++; else tn++; }
        }
        return FromCounts(threshold, tp, fp, fn, tn);
    }

    internal static OperatingPoint FromCounts(double threshold, double tp, double fp, double fn, double tn) => new(
        threshold,
        tp + fn > 0 ? tp / (tp + fn) : double.NaN,
        tn + fp > 0 ? tn / (tn + fp) : double.NaN,
        tp + fp > 0 ? tp / (tp + fp) : double.NaN,
        F1(tp, fp, fn));

    /// <summary>sklearn's f1_score for the positive class: 2TP / (2TP + FP + FN), 0 when the denominator is 0.</summary>
    public static double F1(double tp, double fp, double fn) => 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0.0;

    /// <summary>
    /// The official evaluator's reading at curve index <paramref name="index"/>: sensitivity = TPR[i], specificity = 1 - FPR[i],
    /// precision = TPR[i] * P / #(score &gt;= t), F1 from the counts at t. With the Youden index these equal the plain counts;
    /// with a fixed threshold (the bootstrap) the curve point is the last one strictly above t, which the official CIs inherit.
    /// </summary>
    public static OperatingPoint OfficialAtIndex(RocCurve curve, int index, double threshold, double positives,
        double tpAtT, double calledAtT)
    {
        double tpr = curve.Tpr[index], fpr = curve.Fpr[index];
        double fpAtT = calledAtT - tpAtT, fnAtT = positives - tpAtT;
        return new OperatingPoint(threshold, tpr, 1 - fpr, tpr * positives / calledAtT, F1(tpAtT, fpAtT, fnAtT));
    }
}
