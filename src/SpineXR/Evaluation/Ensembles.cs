// Ensembles: classifiers by the mean of their logits (official ensemble_classifier.py), detectors by Weighted Boxes Fusion.
using SpineXR.Boxes;

namespace SpineXR.Evaluation;

/// <summary>Combines the predictions of several models.</summary>
public static class Ensembles
{
    /// <summary>
    /// Mean of the models' logits per image (a model without a logit column contributes logit(p)); probability = sigmoid(mean).
    /// Images not predicted by every model are left out and reported.
    /// </summary>
    public static List<ClassifierPrediction> Classifiers(IReadOnlyList<IReadOnlyList<ClassifierPrediction>> models, List<string> problems)
    {
        if (models.Count == 0) throw new ArgumentException("no models");
        var sums = new Dictionary<string, (double Sum, int N)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var m in models)
            foreach (var p in m)
            {
                if (!sums.TryGetValue(p.ImageId, out var s)) { order.Add(p.ImageId); s = (0, 0); }
                sums[p.ImageId] = (s.Sum + p.LogitOrFromProb, s.N + 1);
            }
        var result = new List<ClassifierPrediction>(order.Count);
        int partial = 0;
        foreach (string id in order)
        {
            var (sum, n) = sums[id];
            if (n != models.Count) { partial++; continue; }
            double logit = sum / n;
            result.Add(new ClassifierPrediction(id, 1.0 / (1.0 + Math.Exp(-logit)), logit));
        }
        if (partial > 0) problems.Add($"{partial} image(s) not predicted by all {models.Count} models were left out of the ensemble");
        return result;
    }

    /// <summary>
    /// WBF per image over the models' boxes. <paramref name="imageSize"/> gives (width, height) for clipping when known;
    /// otherwise boxes are only clipped at 0.
    /// </summary>
    public static List<DetectorPrediction> Detectors(IReadOnlyList<IReadOnlyList<DetectorPrediction>> models, WbfOptions options,
        Func<string, (float Width, float Height)?>? imageSize = null)
    {
        var byImage = new Dictionary<string, List<ScoredBox>[]>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int m = 0; m < models.Count; m++)
            foreach (var b in models[m])
            {
                if (!byImage.TryGetValue(b.ImageId, out var lists))
                {
                    byImage[b.ImageId] = lists = Enumerable.Range(0, models.Count).Select(_ => new List<ScoredBox>()).ToArray();
                    order.Add(b.ImageId);
                }
                lists[m].Add(new ScoredBox(new BoxF((float)b.X, (float)b.Y, (float)(b.X + b.W), (float)(b.Y + b.H)), b.ClassId, (float)b.Score));
            }
        var result = new List<DetectorPrediction>();
        foreach (string id in order)
        {
            var size = imageSize?.Invoke(id) ?? (float.MaxValue, float.MaxValue);
            foreach (var d in WeightedBoxesFusion.Fuse(byImage[id], size.Width, size.Height, options))
                result.Add(new DetectorPrediction(id, d.ClassId, d.Box.X1, d.Box.Y1, d.Box.Width, d.Box.Height, d.Score));
        }
        return result;
    }
}
