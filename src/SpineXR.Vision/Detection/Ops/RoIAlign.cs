// RoIAlign (He et al., Mask R-CNN, ICCV 2017) with torchvision.ops.roi_align semantics: sample points at
// (bin start + (i + 0.5) * bin / grid), bilinear interpolation that is zero outside [-1, size] and clamps to the
// border inside it, the average over a fixed sampling grid per bin; aligned=false keeps RoIs at least 1x1
// and no half-pixel shift. Training uses gather and elementwise tensor ops so gradients flow to the features;
// inference (features without gradient) runs torchvision's CPU kernel loop in managed code over channels-last
// features, one RoI per worker, SIMD over the channels, without the gathers' (K, samples, C) intermediates.
using System.Numerics;
using TorchSharp;
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
        if (!features.requires_grad && features.dtype == ScalarType.Float32 && features.device_type == DeviceType.CPU)
            return Inference(features, rois, outH, outW, (float)spatialScale, samplingRatio, aligned);
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

    /// <summary>
    /// The forward pass without gradient: torchvision's roi_align CPU loop (the same float32 expressions, in the same
    /// order per channel) over a channels-last copy of the features, RoIs in parallel on libtorch's thread count.
    /// </summary>
    private static unsafe Tensor Inference(Tensor features, Tensor rois, int outH, int outW, float scale, int g, bool aligned)
    {
        long n = features.shape[0], c = features.shape[1], h = features.shape[2], w = features.shape[3];
        long k = rois.shape[0];
        float[] r;
        using (var rf = rois.detach().to(ScalarType.Float32).contiguous()) r = rf.data<float>().ToArray();
        for (long i = 0; i < k; i++)
            if (r[i * 5] < 0 || r[i * 5] >= n) throw new ArgumentException($"RoI {i} has batch index {r[i * 5]}, the features have {n} images", nameof(rois));
        var output = new float[k * c * outH * outW];
        using var flat = features.permute(0, 2, 3, 1).contiguous(); // (N, H, W, C)
        var bytes = flat.bytes; // the tensor's own buffer, read in place while flat is alive
        fixed (byte* p = bytes)
        {
            IntPtr fp = (IntPtr)p;
            Pool(fp);
        }
        GC.KeepAlive(flat); // its buffer was read through the pointer until here
        return torch.tensor(output, [k, c, outH, outW]);

        void Pool(IntPtr fp)
        {
            float* f = (float*)fp;
            float offset = aligned ? 0.5f : 0f;
            float count = Math.Max(g * g, 1);
            int width = Vector<float>.Count;
            var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, get_num_threads()) };
            Parallel.For(0, k, options, () => new float[c], (ki, _, acc) =>
            {
                long b = (long)r[ki * 5];
                float x1 = r[ki * 5 + 1] * scale - offset, y1 = r[ki * 5 + 2] * scale - offset;
                float rw = r[ki * 5 + 3] * scale - offset - x1, rh = r[ki * 5 + 4] * scale - offset - y1;
                if (!aligned)
                {
                    rw = Math.Max(rw, 1f);
                    rh = Math.Max(rh, 1f);
                }
                float binW = rw / outW, binH = rh / outH;
                for (int ph = 0; ph < outH; ph++)
                for (int pw = 0; pw < outW; pw++)
                {
                    Array.Clear(acc);
                    for (int iy = 0; iy < g; iy++)
                    {
                        float y = y1 + ph * binH + (iy + .5f) * binH / g;
                        for (int ix = 0; ix < g; ix++)
                        {
                            float x = x1 + pw * binW + (ix + .5f) * binW / g;
                            if (y < -1f || y > h || x < -1f || x > w) continue; // empty: contributes 0
                            float yy = Math.Max(y, 0f), xx = Math.Max(x, 0f);
                            long yLo = (long)yy, xLo = (long)xx, yHi, xHi;
                            if (yLo >= h - 1) { yHi = yLo = h - 1; yy = yLo; } else yHi = yLo + 1;
                            if (xLo >= w - 1) { xHi = xLo = w - 1; xx = xLo; } else xHi = xLo + 1;
                            float ly = yy - yLo, lx = xx - xLo, hy = 1f - ly, hx = 1f - lx;
                            float w1 = hy * hx, w2 = hy * lx, w3 = ly * hx, w4 = ly * lx;
                            float* v1 = f + ((b * h + yLo) * w + xLo) * c, v2 = f + ((b * h + yLo) * w + xHi) * c;
                            float* v3 = f + ((b * h + yHi) * w + xLo) * c, v4 = f + ((b * h + yHi) * w + xHi) * c;
                            long ch = 0;
                            fixed (float* a = acc)
                            {
                                for (; ch + width <= c; ch += width)
                                {
                                    var sum = new Vector<float>(new ReadOnlySpan<float>(v1 + ch, width)) * w1
                                              + new Vector<float>(new ReadOnlySpan<float>(v2 + ch, width)) * w2
                                              + new Vector<float>(new ReadOnlySpan<float>(v3 + ch, width)) * w3
                                              + new Vector<float>(new ReadOnlySpan<float>(v4 + ch, width)) * w4;
                                    (new Vector<float>(new ReadOnlySpan<float>(a + ch, width)) + sum).CopyTo(new Span<float>(a + ch, width));
                                }
                                for (; ch < c; ch++) a[ch] += w1 * v1[ch] + w2 * v2[ch] + w3 * v3[ch] + w4 * v4[ch];
                            }
                        }
                    }
                    long o = ki * c * outH * outW + ph * outW + pw;
                    for (long ch = 0; ch < c; ch++) output[o + ch * outH * outW] = acc[ch] / count;
                }
                return acc;
            }, _ => { });
        }
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
