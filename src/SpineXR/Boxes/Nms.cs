// Non-maximum suppression with torchvision.ops.nms / batched_nms semantics: visit boxes by decreasing score,
// keep a box unless it overlaps an already kept one with IoU > threshold; batched = independently per class.
namespace SpineXR.Boxes;

/// <summary>Non-maximum suppression over detections.</summary>
public static class Nms
{
    /// <summary>Indices of the kept boxes, by decreasing score (ties: lower index first).</summary>
    public static int[] Run(ReadOnlySpan<BoxF> boxes, ReadOnlySpan<float> scores, float iouThreshold)
    {
        if (boxes.Length != scores.Length) throw new ArgumentException("boxes and scores differ in length");
        int[] order = SortByScore(scores);
        var kept = new List<int>();
        var suppressed = new bool[boxes.Length];
        foreach (int i in order)
        {
            if (suppressed[i]) continue;
            kept.Add(i);
            foreach (int j in order)
                if (!suppressed[j] && j != i && BoxOps.Iou(boxes[i], boxes[j]) > iouThreshold) suppressed[j] = true;
            suppressed[i] = true;
        }
        return kept.ToArray();
    }

    /// <summary>NMS per class (torchvision.ops.batched_nms): indices kept, by decreasing score.</summary>
    public static int[] Batched(ReadOnlySpan<BoxF> boxes, ReadOnlySpan<float> scores, ReadOnlySpan<int> classes, float iouThreshold)
    {
        if (boxes.Length != classes.Length || boxes.Length != scores.Length) throw new ArgumentException("lengths differ");
        var byClass = new Dictionary<int, List<int>>();
        for (int i = 0; i < boxes.Length; i++)
        {
            if (!byClass.TryGetValue(classes[i], out var l)) byClass[classes[i]] = l = [];
            l.Add(i);
        }
        var kept = new List<int>();
        foreach (var (_, idx) in byClass)
        {
            var b = new BoxF[idx.Count];
            var s = new float[idx.Count];
            for (int i = 0; i < s.Length; i++) { b[i] = boxes[idx[i]]; s[i] = scores[idx[i]]; }
            foreach (int k in Run(b, s, iouThreshold)) kept.Add(idx[k]);
        }
        var sc = scores.ToArray();
        kept.Sort((a, b) => { int c = sc[b].CompareTo(sc[a]); return c != 0 ? c : a.CompareTo(b); });
        return kept.ToArray();
    }

    /// <summary>Detections after class-wise NMS.</summary>
    public static ScoredBox[] Batched(IReadOnlyList<ScoredBox> dets, float iouThreshold)
    {
        var boxes = dets.Select(d => d.Box).ToArray();
        var scores = dets.Select(d => d.Score).ToArray();
        var classes = dets.Select(d => d.ClassId).ToArray();
        return Batched(boxes, scores, classes, iouThreshold).Select(i => dets[i]).ToArray();
    }

    private static int[] SortByScore(ReadOnlySpan<float> scores)
    {
        var sc = scores.ToArray();
        var order = Enumerable.Range(0, sc.Length).ToArray();
        Array.Sort(order, (a, b) => { int c = sc[b].CompareTo(sc[a]); return c != 0 ? c : a.CompareTo(b); });
        return order;
    }
}
