// RoIAlign (He et al., Mask R-CNN, ICCV 2017) with torchvision.ops.roi_align semantics: sample points at
// (bin start + (i + 0.5) * bin / grid), bilinear interpolation that is zero outside [-1, size] and clamps to the
// border inside it, the average over a fixed sampling grid per bin; aligned=false keeps RoIs at least 1x1
// and no half-pixel shift. Written with gather and elementwise tensor ops so gradients flow to the features.
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>RoIAlign over one feature map.</summary>
public static class RoIAlign
{
    private const int ChunkRois = 512;

    /// <summary>
    /// features (N, C, H, W), rois (K, 5) rows (batch index, x1, y1, x2, y2) in image pixels -> (K, C, outH, outW).
    /// samplingRatio must be positive (torchvision's adaptive mode, &lt;= 0, is not supported).
    /// </summary>
    public static Tensor Forward(Tensor features, Tensor rois, int outH, int outW, double spatialScale, int samplingRatio, bool aligned)
    {
        if (samplingRatio <= 0) throw new ArgumentException("adaptive sampling (<= 0) is not supported; use a fixed sampling ratio", nameof(samplingRatio));
        long k = rois.shape[0];
        long c = features.shape[1];
        if (k == 0) return zeros([0, c, outH, outW], features.dtype);
        using var scope = NewDisposeScope();
        // Channels-last flat features (N*H*W, C) so every sample is one row gather; made once for all chunks.
        var flat = features.permute(0, 2, 3, 1).reshape(features.shape[0] * features.shape[2] * features.shape[3], c);
        if (k <= ChunkRois || features.requires_grad)
            return Core(flat, features.shape, rois, outH, outW, spatialScale, samplingRatio, aligned).MoveToOuterDisposeScope();
        var parts = new List<Tensor>();
        for (long s = 0; s < k; s += ChunkRois)
            parts.Add(Core(flat, features.shape, rois.narrow(0, s, Math.Min(ChunkRois, k - s)), outH, outW, spatialScale, samplingRatio, aligned));
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    private static Tensor Core(Tensor flat, long[] featureShape, Tensor rois, int outH, int outW, double spatialScale, int g, bool aligned)
    {
        using var scope = NewDisposeScope();
        long c = featureShape[1], h = featureShape[2], w = featureShape[3];
        long k = rois.shape[0];
        var r = rois.detach().to(ScalarType.Float32);
        float offset = aligned ? 0.5f : 0f;
        var batch = r.select(1, 0).to(ScalarType.Int64);
        var x1 = r.select(1, 1) * (float)spatialScale - offset;
        var y1 = r.select(1, 2) * (float)spatialScale - offset;
        var x2 = r.select(1, 3) * (float)spatialScale - offset;
        var y2 = r.select(1, 4) * (float)spatialScale - offset;
        var rw = x2 - x1;
        var rh = y2 - y1;
        if (!aligned)
        {
            rw = rw.clamp_min(1f);
            rh = rh.clamp_min(1f);
        }
        var binW = rw / outW;
        var binH = rh / outH;
        // sample offsets within the RoI, in bins: p + (i + 0.5) / g for bin p, sub-sample i; (outH*g)
        var sy = (arange(outH, ScalarType.Float32).unsqueeze(1) + (arange(g, ScalarType.Float32).unsqueeze(0) + 0.5f) / g).reshape(-1);
        var sx = (arange(outW, ScalarType.Float32).unsqueeze(1) + (arange(g, ScalarType.Float32).unsqueeze(0) + 0.5f) / g).reshape(-1);
        // (K, 1) + (1, S) -> (K, S) sample coordinates
        var ys = y1.unsqueeze(1) + sy.unsqueeze(0) * binH.unsqueeze(1);
        var xs = x1.unsqueeze(1) + sx.unsqueeze(0) * binW.unsqueeze(1);
        var (yLo, yHi, ly, validY) = Axis(ys, h);
        var (xLo, xHi, lx, validX) = Axis(xs, w);
        var hy = 1 - ly;
        var hx = 1 - lx;

        var baseIdx = (batch * (h * w)).view(k, 1, 1);
        long sY = ys.shape[1], sX = xs.shape[1];
        Tensor Gather(Tensor yi, Tensor xi)
        {
            // (K, Sy, 1) and (K, 1, Sx) -> (K, Sy, Sx) row indices
            var idx = baseIdx + yi.unsqueeze(2) * w + xi.unsqueeze(1);
            return flat.index_select(0, idx.reshape(-1)).view(k, sY, sX, c);
        }
        var vy = validY.to(flat.dtype);
        var vx = validX.to(flat.dtype);
        var wyLo = (hy * vy).view(k, sY, 1, 1);
        var wyHi = (ly * vy).view(k, sY, 1, 1);
        var wxLo = (hx * vx).view(k, 1, sX, 1);
        var wxHi = (lx * vx).view(k, 1, sX, 1);
        var val = Gather(yLo, xLo) * (wyLo * wxLo)
                  + Gather(yLo, xHi) * (wyLo * wxHi)
                  + Gather(yHi, xLo) * (wyHi * wxLo)
                  + Gather(yHi, xHi) * (wyHi * wxHi);
        // (K, outH*g, outW*g, C) -> (K, outH, g, outW, g, C) -> mean over the sampling grid -> (K, C, outH, outW)
        var pooled = val.view(k, outH, g, outW, g, c).mean([2, 4]);
        return pooled.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Per-axis bilinear indices and weights, as torchvision's bilinear_interpolate.</summary>
    private static (Tensor Lo, Tensor Hi, Tensor Frac, Tensor Valid) Axis(Tensor coord, long size)
    {
        var valid = (coord >= -1f).logical_and(coord <= size);
        var c = coord.clamp_min(0f);
        var lo = c.to(ScalarType.Int64);
        var atEdge = lo >= size - 1;
        lo = lo.clamp_max(size - 1);
        var hi = where(atEdge, lo, lo + 1);
        c = where(atEdge, lo.to(ScalarType.Float32), c);
        var frac = c - lo.to(ScalarType.Float32);
        return (lo, hi, frac, valid);
    }
}
