// Repeat-factor sampling (Gupta et al., LVIS, CVPR 2019), as detectron2's RepeatFactorTrainingSampler:
// r(c) = max(1, sqrt(t / f(c))) with f(c) the fraction of images containing class c, r(image) = max over its classes,
// and each epoch repeats an image floor(r) times plus once more with probability frac(r).

namespace SpineXR.Vision.Detection.Training;

/// <summary>Per-epoch image order with rare classes repeated.</summary>
public sealed class RepeatFactorSampler
{
    private readonly double[] _factors;

    public IReadOnlyList<double> Factors => _factors;

    public RepeatFactorSampler(IReadOnlyList<int[]> classesPerImage, int numClasses, double threshold)
    {
        var imagesWith = new int[numClasses];
        foreach (var cls in classesPerImage)
            foreach (int c in cls.Distinct()) imagesWith[c]++;
        int n = Math.Max(1, classesPerImage.Count);
        var classFactor = imagesWith.Select(k => k == 0 || threshold <= 0 ? 1.0 : Math.Max(1.0, Math.Sqrt(threshold / ((double)k / n)))).ToArray();
        _factors = classesPerImage.Select(cls => cls.Length == 0 ? 1.0 : cls.Max(c => classFactor[c])).ToArray();
    }

    /// <summary>Shuffled indices of one epoch (stochastic rounding of the repeat factors).</summary>
    public List<int> Epoch(Random rng)
    {
        var list = new List<int>();
        for (int i = 0; i < _factors.Length; i++)
        {
            double r = _factors[i];
            int k = (int)Math.Floor(r) + (rng.NextDouble() < r - Math.Floor(r) ? 1 : 0);
            for (int j = 0; j < k; j++) list.Add(i);
        }
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
        return list;
    }
}
