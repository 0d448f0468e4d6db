// `spinexr model run --arch efficientdet_d0..d3`: the published EfficientDet sized from the weights (classes from the
// class net's output conv, BiFPN width and cell count, head repeats), from an effdet checkpoint or our
// weights.safetensors, loaded strictly, run once in eval mode on a float32 N x 3 x H x W tensor in [0, 1]
// (resized so the longer side is the variant's image size); detections.json in input pixels.
using SpineXR.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection;

/// <summary>EfficientDet-D0..D3 for `model run`.</summary>
public sealed class EfficientDetArchitecture : IRunnableArchitecture
{
    public IReadOnlyList<string> Names => ["efficientdet_d0", "efficientdet_d1", "efficientdet_d2", "efficientdet_d3"];

    /// <summary>D<c>n</c> of <paramref name="arch"/> with the class count, width and repeats the weights (our names) have.</summary>
    public static EfficientDetConfig ConfigFor(string arch, IReadOnlyDictionary<string, Tensor> weights)
    {
        long[] Shape(string key) => weights.TryGetValue(key, out var t) ? t.shape
            : throw new InvalidDataException($"the weights have no '{key}', so they are not an EfficientDet");
        int phi = arch[^1] - '0';
        long outputs = Shape("class_net.predict.conv_pw.weight")[0];
        if (outputs % EfficientDetAnchors.PerLocation != 0) throw new InvalidDataException($"class_net.predict has {outputs} outputs, not a multiple of {EfficientDetAnchors.PerLocation} anchors");
        int Count(string prefix) => weights.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => int.Parse(k[prefix.Length..].Split('.')[0])).DefaultIfEmpty(-1).Max() + 1;
        return EfficientDetConfig.D(phi, (int)(outputs / EfficientDetAnchors.PerLocation)) with
        {
            FpnChannels = (int)Shape("class_net.predict.conv_dw.weight")[0],
            FpnCellRepeats = Count("fpn.cell."),
            BoxClassRepeats = Count("class_net.conv_rep."),
        };
    }

    public IReadOnlyList<string> Run(string arch, IReadOnlyDictionary<string, Tensor> weights, Tensor input, string outDir)
    {
        if (input.dim() != 4 || input.shape[1] != 3)
            throw new InvalidDataException($"input must be N x 3 x H x W, got [{string.Join(", ", input.shape)}]");
        var skipped = new List<string>();
        var ours = EfficientDetWeights.ToOurNames(weights, skipped, out _);
        using var model = new EfficientDet(ConfigFor(arch, ours));
        StateDict.Load(model, ours, skip: DetectorArchitectures.IsNumBatchesTracked, source: "the weights");
        model.eval();
        using var scope = NewDisposeScope();
        var x = input.to(ScalarType.Float32);
        var dets = model.Detect(Enumerable.Range(0, (int)x.shape[0]).Select(i => x[i]).ToArray());
        string path = Path.Combine(outDir, "detections.json");
        AtomicFile.WriteAllText(path, DetectorArchitectures.ToJson(dets));
        return [path];
    }
}
