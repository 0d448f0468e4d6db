// Percentile bootstrap interval as the official evaluator's _get_mean_ci computes it.
namespace SpineXR.Metrics;

/// <summary>Mean of the bootstrap values and the 95% (or other) percentile interval.</summary>
public readonly record struct Interval(double Mean, double Lower, double Upper);

/// <summary>Percentile intervals over bootstrap replicates.</summary>
public static class Percentile
{
    /// <summary>
    /// Sorts <paramref name="values"/> (NaN last, as numpy) and returns mean, values[b] and values[-b] with
    /// b = floor((1 - ci) / 2 * n): the official evaluator's bounds (note values[-0] is numpy's values[0]).
    /// </summary>
    public static Interval MeanCi(Span<double> values, double ci = 0.95)
    {
        int n = values.Length;
        if (n == 0) return new Interval(double.NaN, double.NaN, double.NaN);
        values.Sort(static (a, b) => double.IsNaN(a) ? (double.IsNaN(b) ? 0 : 1) : double.IsNaN(b) ? -1 : a.CompareTo(b));
        double sum = 0;
        foreach (double v in values) sum += v;
        int bound = (int)Math.Floor((1.0 - ci) / 2.0 * n);
        return new Interval(sum / n, values[bound], values[bound == 0 ? 0 : n - bound]);
    }
}
