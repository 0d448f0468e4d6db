// Input transform of torchvision's detection models (transform.GeneralizedRCNNTransform, 0.14): normalise by
// ImageNet mean/std, resize so the short side reaches MinSize unless the long side would pass MaxSize (scale
// computed in float32, output size floor(size * scale), bilinear, align_corners=false), zero-pad the batch to a
// multiple of 32, and map predicted boxes back to the original image size.
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>A padded batch and each image's size after resizing (before padding).</summary>
public sealed record ImageList(Tensor Tensors, IReadOnlyList<(long H, long W)> ImageSizes);

/// <summary>Normalise, resize, batch; and box post-processing back to original pixels.</summary>
public sealed class GeneralizedRCNNTransform
{
    public int[] MinSize { get; }
    public int MaxSize { get; }
    public float[] Mean { get; }
    public float[] Std { get; }
    public int SizeDivisible { get; }

    public GeneralizedRCNNTransform(int[] minSize, int maxSize, float[]? mean = null, float[]? std = null, int sizeDivisible = 32)
    {
        if (minSize.Length == 0 || minSize.Any(s => s < 1)) throw new ArgumentException("at least one positive size", nameof(minSize));
        if (maxSize < 1) throw new ArgumentException("must be positive", nameof(maxSize));
        MinSize = minSize;
        MaxSize = maxSize;
        Mean = mean ?? [0.485f, 0.456f, 0.406f];
        Std = std ?? [0.229f, 0.224f, 0.225f];
        SizeDivisible = sizeDivisible;
    }

    /// <summary>
    /// The resize scale torchvision computes: min(min/short, max/long) in float32, where PyTorch evaluates
    /// number / tensor as reciprocal(tensor) * number (so 800/480 gives 1.6666667, and 480 px become 800, not 799).
    /// </summary>
    public static double Scale(long h, long w, int minSize, int maxSize)
    {
        float shortSide = Math.Min(h, w), longSide = Math.Max(h, w);
        float a = 1f / shortSide * minSize;
        float b = 1f / longSide * maxSize;
        return MathF.Min(a, b);
    }

    /// <summary>Output size after resizing by <see cref="Scale"/> (recompute_scale_factor semantics).</summary>
    public static (long H, long W) ResizedSize(long h, long w, int minSize, int maxSize)
    {
        double s = Scale(h, w, minSize, maxSize);
        return ((long)Math.Floor(h * s), (long)Math.Floor(w * s));
    }

    /// <summary>Normalises and resizes one (3, H, W) image in [0, 1]; boxes (K, 4) are scaled along when given.</summary>
    public (Tensor Image, Tensor? Boxes) ResizeOne(Tensor image, Tensor? boxes, int minSize)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(Mean).view(-1, 1, 1);
        var std = tensor(Std).view(-1, 1, 1);
        var x = (image - mean) / std;
        long h = image.shape[1], w = image.shape[2];
        var (nh, nw) = ResizedSize(h, w, minSize, MaxSize);
        x = nn.functional.interpolate(x.unsqueeze(0), size: [nh, nw], mode: InterpolationMode.Bilinear, align_corners: false).squeeze(0);
        Tensor? b = boxes is null ? null : ResizeBoxes(boxes, (h, w), (nh, nw)).MoveToOuterDisposeScope();
        return (x.MoveToOuterDisposeScope(), b);
    }

    /// <summary>
    /// Training input: each image resized to a shortest edge drawn from <paramref name="minSizes"/> (one draw per image,
    /// in order, from <paramref name="rng"/>, so a seeded step is reproducible), its boxes scaled along, then batched.
    /// Tensors belong to the caller's dispose scope.
    /// </summary>
    public (ImageList Batch, Tensor[] Boxes) ResizeForTraining(IReadOnlyList<Tensor> images, IReadOnlyList<Tensor> boxes,
        IReadOnlyList<int> minSizes, Random rng)
    {
        var resized = new Tensor[images.Count];
        var scaled = new Tensor[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            int size = minSizes[rng.Next(minSizes.Count)];
            (resized[i], var b) = ResizeOne(images[i], boxes[i], size);
            scaled[i] = b!;
        }
        return (Batch(resized), scaled);
    }

    /// <summary>Pads resized images into one zero batch whose H and W are multiples of <see cref="SizeDivisible"/>.</summary>
    public ImageList Batch(IReadOnlyList<Tensor> images)
    {
        long maxH = images.Max(t => t.shape[1]), maxW = images.Max(t => t.shape[2]);
        long d = SizeDivisible;
        long bh = (long)Math.Ceiling((double)maxH / d) * d, bw = (long)Math.Ceiling((double)maxW / d) * d;
        var batch = zeros(images.Count, images[0].shape[0], bh, bw, images[0].dtype);
        using (no_grad())
        {
            for (int i = 0; i < images.Count; i++)
            {
                var img = images[i];
                batch[i].narrow(1, 0, img.shape[1]).narrow(2, 0, img.shape[2]).copy_(img);
            }
        }
        return new ImageList(batch, images.Select(t => (t.shape[1], t.shape[2])).ToArray());
    }

    /// <summary>Eval-mode transform of a batch (N, 3, H, W) of same-size images, or a list of (3, H_i, W_i).</summary>
    public ImageList Forward(IReadOnlyList<Tensor> images)
    {
        using var scope = NewDisposeScope();
        var resized = images.Select(im => ResizeOne(im, null, MinSize[^1]).Image).ToArray();
        var list = Batch(resized);
        list.Tensors.MoveToOuterDisposeScope();
        return list;
    }

    /// <summary>Scales (K, 4) boxes from one image size to another, ratios in float32 as torchvision.</summary>
    public static Tensor ResizeBoxes(Tensor boxes, (long H, long W) from, (long H, long W) to)
    {
        using var scope = NewDisposeScope();
        float rh = (float)to.H / from.H;
        float rw = (float)to.W / from.W;
        var scale = tensor(new[] { rw, rh, rw, rh }, boxes.dtype);
        return (boxes * scale).MoveToOuterDisposeScope();
    }
}
