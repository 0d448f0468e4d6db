// Anchors as torchvision's anchor_utils.AnchorGenerator: per level, base anchors for every
// (aspect ratio, size) pair (ratio-major), rounded to integers, centred on 0, shifted to every
// feature cell at the level's integer stride (padded batch size // feature size).
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>Generates anchors for each pyramid level; one size tuple and one aspect-ratio tuple per level.</summary>
public sealed class AnchorGenerator
{
    private readonly Tensor[] _cellAnchors;

    public IReadOnlyList<double[]> Sizes { get; }
    public IReadOnlyList<double[]> AspectRatios { get; }

    public AnchorGenerator(IReadOnlyList<double[]> sizes, IReadOnlyList<double[]> aspectRatios)
    {
        if (sizes.Count != aspectRatios.Count) throw new ArgumentException("one aspect-ratio set per size set", nameof(aspectRatios));
        Sizes = sizes;
        AspectRatios = aspectRatios;
        _cellAnchors = sizes.Zip(aspectRatios, CellAnchors).ToArray();
    }

    /// <summary>Faster R-CNN defaults: sizes 32..512 one per level, ratios (0.5, 1, 2).</summary>
    public static AnchorGenerator FasterRcnnDefault() =>
        new([[32], [64], [128], [256], [512]], Enumerable.Repeat(new double[] { 0.5, 1.0, 2.0 }, 5).ToArray());

    /// <summary>RetinaNet defaults: three octave scales x (0.5, 1, 2) per level, sizes 32..512.</summary>
    public static AnchorGenerator RetinaNetDefault()
    {
        var sizes = new[] { 32, 64, 128, 256, 512 }
            .Select(x => new double[] { x, (int)(x * Math.Pow(2, 1.0 / 3)), (int)(x * Math.Pow(2, 2.0 / 3)) }).ToArray();
        return new(sizes, Enumerable.Repeat(new double[] { 0.5, 1.0, 2.0 }, 5).ToArray());
    }

    /// <summary>Anchors per location of each level.</summary>
    public int[] NumAnchorsPerLocation() => Sizes.Zip(AspectRatios, (s, a) => s.Length * a.Length).ToArray();

    private static Tensor CellAnchors(double[] scales, double[] ratios)
    {
        using var scope = NewDisposeScope();
        var s = tensor(scales.Select(v => (float)v).ToArray());
        var r = tensor(ratios.Select(v => (float)v).ToArray());
        var hRatios = sqrt(r);
        var wRatios = 1 / hRatios;
        // (R, 1) * (1, S) -> (R*S)
        var ws = (wRatios.unsqueeze(1) * s.unsqueeze(0)).reshape(-1);
        var hs = (hRatios.unsqueeze(1) * s.unsqueeze(0)).reshape(-1);
        var baseAnchors = stack([-ws, -hs, ws, hs], 1) / 2;
        return baseAnchors.round().DetachFromDisposeScope();
    }

    /// <summary>Anchors (sum over levels of H*W*A, 4) for a padded batch of size (batchH, batchW), identical for every image.</summary>
    public Tensor Generate(long batchH, long batchW, IReadOnlyList<(long H, long W)> featureSizes)
    {
        if (featureSizes.Count != _cellAnchors.Length)
            throw new ArgumentException($"{featureSizes.Count} feature maps but anchors for {_cellAnchors.Length} levels", nameof(featureSizes));
        using var scope = NewDisposeScope();
        var perLevel = new Tensor[featureSizes.Count];
        for (int i = 0; i < featureSizes.Count; i++)
        {
            var (gh, gw) = featureSizes[i];
            long strideH = batchH / gh, strideW = batchW / gw;
            var shiftsX = arange(0, gw, ScalarType.Int32).to(ScalarType.Float32) * strideW;
            var shiftsY = arange(0, gh, ScalarType.Int32).to(ScalarType.Float32) * strideH;
            var grid = meshgrid([shiftsY, shiftsX], indexing: "ij");
            var sy = grid[0].reshape(-1);
            var sx = grid[1].reshape(-1);
            var shifts = stack([sx, sy, sx, sy], 1);
            // (HW, 1, 4) + (1, A, 4) -> (HW*A, 4)
            perLevel[i] = (shifts.view(-1, 1, 4) + _cellAnchors[i].view(1, -1, 4)).reshape(-1, 4);
        }
        return cat(perLevel, 0).MoveToOuterDisposeScope();
    }
}
