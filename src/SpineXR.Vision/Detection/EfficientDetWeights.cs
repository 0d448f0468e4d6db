// Weights for EfficientDet from three sources, mapped by name:
// - an effdet checkpoint (rwightman/efficientdet-pytorch, efficientdet_d0..d3): fpn.*, class_net.*, box_net.* keep
//   their names (our modules mirror effdet's), the timm EfficientNet backbone is renamed to torchvision's layout:
//     backbone.conv_stem.weight                  -> backbone.features.0.0.weight
//     backbone.bn1.X                             -> backbone.features.0.1.X
//     backbone.blocks.S.B.<timm layer>.X         -> backbone.features.{S+1}.B.block.<index>.X, where for an inverted
//       residual block (it has conv_pwl) conv_pw/bn1 -> 0.0/0.1, conv_dw/bn2 -> 1.0/1.1, se.conv_reduce/se.conv_expand
//       -> 2.fc1/2.fc2, conv_pwl/bn3 -> 3.0/3.1; for a depthwise-separable block (stage 0, expansion 1)
//       conv_dw/bn1 -> 0.0/0.1, se -> 1.fc1/1.fc2, conv_pw/bn2 -> 2.0/2.1
//   (conv_head and bn2 of a full timm model have no counterpart in the detector and are skipped);
// - a torchvision ImageNet EfficientNet (features.*; features.8 and classifier.* skipped) -> backbone.features.*;
// - our own weights.safetensors (same names).
using System.Text.RegularExpressions;
using SpineXR.Vision.Weights;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Name maps and loaders for <see cref="EfficientDet"/> weights.</summary>
public static partial class EfficientDetWeights
{
    [GeneratedRegex(@"^backbone\.blocks\.(\d+)\.(\d+)\.(.+)$")]
    private static partial Regex TimmBlock();

    private static readonly Dictionary<string, string> InvertedResidual = new(StringComparer.Ordinal)
    {
        ["conv_pw"] = "0.0", ["bn1"] = "0.1", ["conv_dw"] = "1.0", ["bn2"] = "1.1",
        ["se.conv_reduce"] = "2.fc1", ["se.conv_expand"] = "2.fc2", ["conv_pwl"] = "3.0", ["bn3"] = "3.1",
    };

    private static readonly Dictionary<string, string> DepthwiseSeparable = new(StringComparer.Ordinal)
    {
        ["conv_dw"] = "0.0", ["bn1"] = "0.1", ["se.conv_reduce"] = "1.fc1", ["se.conv_expand"] = "1.fc2", ["conv_pw"] = "2.0", ["bn2"] = "2.1",
    };

    /// <summary>True when the keys are effdet's (a timm backbone).</summary>
    public static bool IsEffdet(IEnumerable<string> keys) => keys.Any(k => k.StartsWith("backbone.conv_stem.", StringComparison.Ordinal));

    /// <summary>True when the keys are a torchvision EfficientNet classifier's.</summary>
    public static bool IsTorchvisionEfficientNet(IEnumerable<string> keys) =>
        keys.Any(k => k.StartsWith("features.0.0.", StringComparison.Ordinal)) && !keys.Any(k => k.StartsWith("backbone.", StringComparison.Ordinal));

    /// <summary>
    /// Our name for an effdet key, or null when it has none. <paramref name="hasKey"/> tells whether the checkpoint
    /// holds a key (a block's type is read from whether it has <c>conv_pwl</c>).
    /// </summary>
    public static string? MapEffdetKey(string key, Func<string, bool> hasKey)
    {
        if (key.StartsWith("fpn.", StringComparison.Ordinal) || key.StartsWith("class_net.", StringComparison.Ordinal) || key.StartsWith("box_net.", StringComparison.Ordinal))
            return key;
        if (key.StartsWith("backbone.conv_stem.", StringComparison.Ordinal)) return "backbone.features.0.0." + key["backbone.conv_stem.".Length..];
        if (key.StartsWith("backbone.bn1.", StringComparison.Ordinal)) return "backbone.features.0.1." + key["backbone.bn1.".Length..];
        var m = TimmBlock().Match(key);
        if (!m.Success) return null;
        string stage = m.Groups[1].Value, block = m.Groups[2].Value, rest = m.Groups[3].Value;
        int dot = rest.LastIndexOf('.');
        if (dot < 0) return null;
        string layer = rest[..dot], leaf = rest[(dot + 1)..];
        var table = hasKey($"backbone.blocks.{stage}.{block}.conv_pwl.weight") ? InvertedResidual : DepthwiseSeparable;
        return table.TryGetValue(layer, out var ours) ? $"backbone.features.{int.Parse(stage) + 1}.{block}.block.{ours}.{leaf}" : null;
    }

    /// <summary>
    /// The source renamed to our keys (effdet, torchvision EfficientNet or ours, detected from the keys); keys without a
    /// counterpart go to <paramref name="skipped"/>. The tensors are shared with <paramref name="source"/>.
    /// </summary>
    public static Dictionary<string, Tensor> ToOurNames(IReadOnlyDictionary<string, Tensor> source, List<string> skipped, out string format)
    {
        Func<string, string?> map;
        if (IsEffdet(source.Keys))
        {
            format = "effdet";
            map = k => MapEffdetKey(k, source.ContainsKey);
        }
        else if (IsTorchvisionEfficientNet(source.Keys))
        {
            format = "torchvision EfficientNet";
            map = k => k.StartsWith("features.8.", StringComparison.Ordinal) || !k.StartsWith("features.", StringComparison.Ordinal) ? null : "backbone." + k;
        }
        else
        {
            format = "SpineXR";
            map = k => k;
        }
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, t) in source.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (map(k) is { } ours) result[ours] = t;
            else skipped.Add(k);
        }
        return result;
    }

    /// <summary>
    /// Loads every source tensor whose mapped name and shape fit (an ImageNet backbone, or a checkpoint of another
    /// class count: its class layer keeps its initialisation); returns a one-line report of what was loaded and left.
    /// </summary>
    public static string Load(EfficientDet model, IReadOnlyDictionary<string, Tensor> source)
    {
        var skipped = new List<string>();
        var ours = ToOurNames(source, skipped, out string format);
        var target = model.state_dict();
        // other shapes (class count, width) keep their initialisation and are reported; so are keys the model lacks
        bool Skip(string k) => DetectorArchitectures.IsNumBatchesTracked(k)
            || (ours.TryGetValue(k, out var s) && target.TryGetValue(k, out var t) && !s.shape.SequenceEqual(t.shape));
        var report = StateDict.Load(model, ours, strict: false, skip: Skip);
        int shapeSkipped = report.Skipped.Count(k => ours.ContainsKey(k) && !DetectorArchitectures.IsNumBatchesTracked(k));
        string Few(IEnumerable<string> keys) => string.Join(", ", keys.Take(3)) + (keys.Count() > 3 ? ", ..." : "");
        return $"{format} weights: {report.Loaded} tensors loaded"
               + (shapeSkipped > 0 ? $"; {shapeSkipped} of another shape kept their initialisation ({Few(report.Skipped.Where(ours.ContainsKey))})" : "")
               + (report.Missing.Count > 0 ? $"; {report.Missing.Count} model tensors not in the file ({Few(report.Missing)})" : "")
               + (skipped.Count + report.Unexpected.Count > 0 ? $"; {skipped.Count + report.Unexpected.Count} source keys unused ({Few(skipped.Concat(report.Unexpected))})" : "");
    }

    /// <summary>Reads <paramref name="path"/> (.pth or .safetensors) and loads it by <see cref="Load"/>.</summary>
    public static string LoadFile(EfficientDet model, string path)
    {
        var weights = StateDict.Read(path);
        try { return $"{Path.GetFileName(path)}: {Load(model, weights)}"; }
        finally { foreach (var t in weights.Values) t.Dispose(); }
    }
}
