// --init for detector training: torchvision COCO detector weights (everything but the class-dependent layers when the
// class count differs) or ImageNet ResNet weights (loaded into backbone.body, fc dropped).
using SpineXR.Vision.Weights;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Initialises a detector from published torchvision weights.</summary>
public static class DetectorInit
{
    /// <summary>Loads <paramref name="path"/> into <paramref name="module"/>; returns a one-line summary.</summary>
    public static string Apply(nn.Module module, string path)
    {
        var weights = StateDict.Read(path);
        try
        {
            var target = module.state_dict();
            bool isClassifier = weights.ContainsKey("fc.weight") || (weights.ContainsKey("conv1.weight") && !weights.Keys.Any(k => k.StartsWith("backbone.", StringComparison.Ordinal)));
            Dictionary<string, Tensor> src = isClassifier
                ? weights.Where(kv => !kv.Key.StartsWith("fc.", StringComparison.Ordinal)).ToDictionary(kv => "backbone.body." + kv.Key, kv => kv.Value)
                : weights;
            // class-dependent layers (or anything else) whose shape differs keep their fresh initialisation
            bool Skip(string k) => DetectorArchitectures.IsNumBatchesTracked(k)
                || (src.TryGetValue(k, out var s) && target.TryGetValue(k, out var t) && !s.shape.SequenceEqual(t.shape))
                || (isClassifier && !k.StartsWith("backbone.body.", StringComparison.Ordinal));
            var report = StateDict.Load(module, src, strict: true, skip: Skip, source: path);
            return $"{(isClassifier ? "ImageNet backbone" : "detector")} weights from {Path.GetFileName(path)}: {report}";
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
    }
}
