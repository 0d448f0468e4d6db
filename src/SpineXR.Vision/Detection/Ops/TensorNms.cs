// Non-maximum suppression with torchvision.ops.nms / batched_nms semantics: scores sorted descending (stably:
// among equal scores the lower index goes first, as torchvision's kernel; saturated sigmoids tie often),
// a box is dropped when its IoU (float arithmetic, no +1) with a kept box is strictly above the threshold.
// batched_nms picks, like torchvision 0.14, per-class NMS for large inputs and the coordinate-offset trick otherwise.
using static TorchSharp.torch;

namespace SpineXR.Vision.Detection.Ops;

/// <summary>NMS over CPU tensors, the pairwise loop in C#.</summary>
public static class TensorNms
{
    /// <summary>Indices (int64) of kept boxes, by decreasing score.</summary>
    public static Tensor Run(Tensor boxes, Tensor scores, double iouThreshold)
    {
        if (boxes.shape[0] == 0) return empty(0, ScalarType.Int64);
        using var scope = NewDisposeScope();
        var b = boxes.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var order = scores.detach().cpu().sort(0, descending: true, stable: true).Indices.data<long>().ToArray();
        var keep = RunCore(b, order, (float)iouThreshold);
        return tensor(keep, ScalarType.Int64).MoveToOuterDisposeScope();
    }

    /// <summary>NMS on a flat xyxy array, visiting boxes in the given order; returns kept indices.</summary>
    public static long[] RunCore(ReadOnlySpan<float> b, ReadOnlySpan<long> order, float iouThreshold)
    {
        int n = order.Length;
        var x1 = new float[n]; var y1 = new float[n]; var x2 = new float[n]; var y2 = new float[n]; var area = new float[n];
        for (int k = 0; k < n; k++)
        {
            long i = order[k];
            x1[k] = b[(int)(4 * i)]; y1[k] = b[(int)(4 * i + 1)]; x2[k] = b[(int)(4 * i + 2)]; y2[k] = b[(int)(4 * i + 3)];
            area[k] = (x2[k] - x1[k]) * (y2[k] - y1[k]);
        }
        var suppressed = new bool[n];
        var keep = new List<long>();
        for (int k = 0; k < n; k++)
        {
            if (suppressed[k]) continue;
            keep.Add(order[k]);
            float ix1 = x1[k], iy1 = y1[k], ix2 = x2[k], iy2 = y2[k], iarea = area[k];
            for (int j = k + 1; j < n; j++)
            {
                if (suppressed[j]) continue;
                float w = MathF.Max(0f, MathF.Min(ix2, x2[j]) - MathF.Max(ix1, x1[j]));
                float h = MathF.Max(0f, MathF.Min(iy2, y2[j]) - MathF.Max(iy1, y1[j]));
                float inter = w * h;
                float ovr = inter / (iarea + area[j] - inter);
                if (ovr > iouThreshold) suppressed[j] = true;
            }
        }
        return [.. keep];
    }

    /// <summary>NMS within each category (idxs: int64 category per box); kept indices by decreasing score.</summary>
    public static Tensor Batched(Tensor boxes, Tensor scores, Tensor idxs, double iouThreshold)
    {
        if (boxes.shape[0] == 0) return empty(0, ScalarType.Int64);
        using var scope = NewDisposeScope();
        if (boxes.numel() > 4000) return Vanilla(boxes, scores, idxs, iouThreshold).MoveToOuterDisposeScope();
        // Offsets so boxes of different categories never overlap, as torchvision's _batched_nms_coordinate_trick.
        var maxCoordinate = boxes.max();
        var offsets = idxs.to(boxes.dtype) * (maxCoordinate + 1);
        var shifted = boxes + offsets.unsqueeze(1);
        return Run(shifted, scores, iouThreshold).MoveToOuterDisposeScope();
    }

    private static Tensor Vanilla(Tensor boxes, Tensor scores, Tensor idxs, double iouThreshold)
    {
        var b = boxes.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var s = scores.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var ids = idxs.detach().to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();
        var order = scores.detach().cpu().sort(0, descending: true, stable: true).Indices.data<long>().ToArray();
        var byClass = new Dictionary<long, List<long>>();
        foreach (long i in order)
        {
            if (!byClass.TryGetValue(ids[i], out var list)) byClass[ids[i]] = list = [];
            list.Add(i);
        }
        var keepMask = new bool[s.Length];
        foreach (var list in byClass.Values)
            foreach (long k in RunCore(b, list.ToArray(), (float)iouThreshold)) keepMask[k] = true;
        // torchvision: keep = where(mask); keep[scores[keep].sort(descending=True)] (ties in index order here)
        var kept = Enumerable.Range(0, s.Length).Where(i => keepMask[i]).Select(i => (long)i).ToArray();
        var keptT = tensor(kept, ScalarType.Int64);
        var order2 = scores.detach().cpu().index_select(0, keptT).sort(0, descending: true, stable: true).Indices;
        return keptT.index_select(0, order2);
    }
}
