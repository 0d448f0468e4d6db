// Initial weights for Sparse R-CNN from three sources, mapped by name:
// - an official Sparse R-CNN / detectron2 checkpoint (.pth saved by detectron2's Checkpointer, the state dict
//   under "model"): init_proposal_*, head.head_series.N.* keep their names (our modules mirror head.py), the
//   detectron2 ResNet and FPN are renamed to torchvision's layout:
//     backbone.bottom_up.stem.conv1.weight            -> backbone.body.conv1.weight
//     backbone.bottom_up.stem.conv1.norm.X            -> backbone.body.bn1.X
//     backbone.bottom_up.resK.B.convN.weight          -> backbone.body.layer{K-1}.B.convN.weight
//     backbone.bottom_up.resK.B.convN.norm.X          -> backbone.body.layer{K-1}.B.bnN.X
//     backbone.bottom_up.resK.B.shortcut.weight       -> backbone.body.layer{K-1}.B.downsample.0.weight
//     backbone.bottom_up.resK.B.shortcut.norm.X       -> backbone.body.layer{K-1}.B.downsample.1.X
//     backbone.fpn_lateralK.{weight,bias}             -> backbone.fpn.inner_blocks.{K-2}.0.{weight,bias}
//     backbone.fpn_outputK.{weight,bias}              -> backbone.fpn.layer_blocks.{K-2}.0.{weight,bias}
//   (the official R50 uses STRIDE_IN_1X1 False and RGB torchvision normalisation, so the layouts agree);
// - a torchvision ImageNet ResNet state dict (conv1..., layer1...; fc.* skipped) -> backbone.body.*;
// - our own weights.safetensors (same names).
// Tensors whose shapes differ (e.g. the 80-class COCO class_logits against 7 classes) are skipped and reported,
// which is how the paper fine-tunes the COCO model.
using System.Collections;
using System.Text.RegularExpressions;
using SpineXR.Vision.Weights;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>Where <see cref="SparseRcnnWeights"/> found the source names.</summary>
public enum SparseRcnnWeightFormat
{
    /// <summary>Our names (a SpineXR run's weights.safetensors).</summary>
    Native,

    /// <summary>Official Sparse R-CNN / detectron2 names.</summary>
    Detectron2,

    /// <summary>torchvision ImageNet ResNet names.</summary>
    TorchvisionResNet,
}

/// <summary>What an <c>--init</c> load did: source keys copied (with their target), source keys skipped, model keys left at their initial values, shape mismatches.</summary>
public sealed record InitLoadReport(
    SparseRcnnWeightFormat Format,
    IReadOnlyList<(string Source, string Target)> Mapped,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> ShapeMismatches)
{
    /// <summary>One line with the counts and the first keys of each kind.</summary>
    public override string ToString()
    {
        static string List(string what, IReadOnlyList<string> keys) =>
            keys.Count == 0 ? "" : $"; {keys.Count} {what} ({string.Join(", ", keys.Take(4))}{(keys.Count > 4 ? ", ..." : "")})";
        return $"{Format} weights: {Mapped.Count} mapped{List("with another shape, skipped", ShapeMismatches)}{List("source keys skipped", Skipped)}{List("model keys not in the file", Missing)}";
    }
}

/// <summary>Name maps and the non-strict initial-weights loader for <see cref="SparseRcnn"/>.</summary>
public static partial class SparseRcnnWeights
{
    [GeneratedRegex(@"^backbone\.bottom_up\.res([2-5])\.(\d+)\.(conv[1-3]|shortcut)(\.norm)?\.(weight|bias|running_mean|running_var)$")]
    private static partial Regex ResBlock();

    [GeneratedRegex(@"^backbone\.fpn_(lateral|output)([2-5])\.(weight|bias)$")]
    private static partial Regex FpnConv();

    /// <summary>Our name for a detectron2 Sparse R-CNN key, or null when the key has no counterpart (pixel_mean, fpn_output6...).</summary>
    public static string? MapDetectron2Key(string key)
    {
        if (key.StartsWith("head.head_series.", StringComparison.Ordinal) || key is "init_proposal_features.weight" or "init_proposal_boxes.weight")
            return key;
        if (key.StartsWith("backbone.bottom_up.stem.conv1.", StringComparison.Ordinal))
        {
            string rest = key["backbone.bottom_up.stem.conv1.".Length..];
            if (rest == "weight") return "backbone.body.conv1.weight";
            if (rest.StartsWith("norm.", StringComparison.Ordinal)) return "backbone.body.bn1." + rest["norm.".Length..];
            return null;
        }
        var m = ResBlock().Match(key);
        if (m.Success)
        {
            string layer = $"backbone.body.layer{int.Parse(m.Groups[1].Value) - 1}.{m.Groups[2].Value}.";
            string conv = m.Groups[3].Value;
            bool norm = m.Groups[4].Success;
            string leaf = m.Groups[5].Value;
            if (!norm && leaf != "weight") return null;
            if (conv == "shortcut") return layer + (norm ? "downsample.1." : "downsample.0.") + leaf;
            return layer + (norm ? "bn" + conv[^1] + "." : conv + ".") + leaf;
        }
        var f = FpnConv().Match(key);
        if (f.Success)
        {
            string blocks = f.Groups[1].Value == "lateral" ? "inner_blocks" : "layer_blocks";
            return $"backbone.fpn.{blocks}.{int.Parse(f.Groups[2].Value) - 2}.0.{f.Groups[3].Value}";
        }
        return null;
    }

    /// <summary>Our name for a torchvision ImageNet ResNet key (fc.* has none).</summary>
    public static string? MapTorchvisionResNetKey(string key) =>
        key.StartsWith("fc.", StringComparison.Ordinal) ? null : "backbone.body." + key;

    /// <summary>
    /// Reads a weights file: .safetensors, a plain torch.save'd state dict, or a detectron2 checkpoint whose state dict
    /// is under "model" (other entries such as the optimizer are ignored).
    /// </summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such weights file", path);
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return StateDict.Read(path);
        try
        {
            using var stream = File.OpenRead(path);
            Hashtable table = PyTorchUnpickler.UnpickleStateDict(stream);
            if (table["model"] is Hashtable inner) table = inner;
            var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in table)
                if (e.Key is string k && e.Value is Tensor t) dict[k] = t;
            if (dict.Count == 0) throw new InvalidDataException("no tensors found (neither a state dict nor a checkpoint with a 'model' entry)");
            return dict;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: not a readable PyTorch or detectron2 checkpoint: {e.Message}", e);
        }
    }

    /// <summary>Which naming the keys use.</summary>
    public static SparseRcnnWeightFormat DetectFormat(IEnumerable<string> keys)
    {
        var list = keys.ToList();
        if (list.Any(k => k.StartsWith("backbone.bottom_up.", StringComparison.Ordinal) || k.StartsWith("backbone.fpn_", StringComparison.Ordinal)))
            return SparseRcnnWeightFormat.Detectron2;
        if (list.Any(k => k.StartsWith("layer1.", StringComparison.Ordinal)) && !list.Any(k => k.StartsWith("backbone.", StringComparison.Ordinal)))
            return SparseRcnnWeightFormat.TorchvisionResNet;
        return SparseRcnnWeightFormat.Native;
    }

    /// <summary>Copies every source tensor that maps to a model key of the same shape; reports the rest. Never throws on a partial match.</summary>
    public static InitLoadReport Load(SparseRcnn model, IReadOnlyDictionary<string, Tensor> source)
    {
        var format = DetectFormat(source.Keys);
        Func<string, string?> map = format switch
        {
            SparseRcnnWeightFormat.Detectron2 => MapDetectron2Key,
            SparseRcnnWeightFormat.TorchvisionResNet => MapTorchvisionResNetKey,
            _ => k => k,
        };
        var target = model.state_dict();
        var mapped = new List<(string, string)>();
        var skipped = new List<string>();
        var mismatched = new List<string>();
        var filled = new HashSet<string>(StringComparer.Ordinal);
        using (no_grad())
        {
            foreach (var (key, t) in source.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                string? ours = map(key);
                if (ours is null || !target.TryGetValue(ours, out var dst))
                {
                    skipped.Add(key);
                    continue;
                }
                if (!dst.shape.SequenceEqual(t.shape))
                {
                    mismatched.Add($"{key} [{string.Join("x", t.shape)}] vs {ours} [{string.Join("x", dst.shape)}]");
                    continue;
                }
                dst.copy_(t.to(dst.dtype, dst.device));
                mapped.Add((key, ours));
                filled.Add(ours);
            }
        }
        // BatchNorm's step counter carries no weights; a detectron2 FrozenBN has none to give.
        var missing = target.Keys.Where(k => !filled.Contains(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .OrderBy(k => k, StringComparer.Ordinal).ToList();
        return new InitLoadReport(format, mapped, skipped, missing, mismatched);
    }

    /// <summary>Reads <paramref name="path"/> and loads it by <see cref="Load"/>.</summary>
    public static InitLoadReport LoadFile(SparseRcnn model, string path)
    {
        var weights = Read(path);
        try { return Load(model, weights); }
        finally { foreach (var t in weights.Values) t.Dispose(); }
    }
}
