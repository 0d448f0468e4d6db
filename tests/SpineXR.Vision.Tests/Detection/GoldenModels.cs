using SpineXR.Vision.Detection;
using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Detection;

/// <summary>The small torchvision configurations of tools/detector_golden.py, and fixture access.</summary>
internal static class GoldenModels
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Detection", name);

    private static ResNetConfig TinyBody => new() { Block = ResidualBlockKind.Basic, Layers = [1, 1, 1, 1], BaseWidth = 8, NumClasses = 0 };

    public static FasterRcnnConfig SmallFasterRcnn => new()
    {
        NumClasses = 8,
        MinSize = [160],
        MaxSize = 256,
        Backbone = new FpnBackboneConfig { Body = TinyBody, OutChannels = 32, TrainableLayers = 5 },
        Rpn = new RpnConfig { PreNmsTopNTest = 300, PostNmsTopNTest = 300 },
        RoIHeads = new RoIHeadsConfig { RepresentationSize = 64 },
    };

    public static RetinaNetConfig SmallRetinaNet => new()
    {
        NumClasses = 7,
        MinSize = [160],
        MaxSize = 256,
        Backbone = new FpnBackboneConfig
        {
            Body = TinyBody, OutChannels = 32, TrainableLayers = 5, ReturnedLayers = [2, 3, 4], Extra = FpnExtraBlock.LastLevelP6P7,
        },
    };

    /// <summary>Image tensors and torchvision's detections from a *_io.pth fixture.</summary>
    public static (Tensor[] Images, DetectionOutput[] Expected, Dictionary<string, Tensor> All) ReadIo(string name)
    {
        var io = StateDict.Read(Fixture(name));
        int n = io.Keys.Count(k => k.StartsWith("image", StringComparison.Ordinal));
        var images = Enumerable.Range(0, n).Select(i => io[$"image{i}"]).ToArray();
        var expected = Enumerable.Range(0, n).Select(i => new DetectionOutput(io[$"boxes{i}"], io[$"scores{i}"], io[$"labels{i}"])).ToArray();
        return (images, expected, io);
    }

    /// <summary>
    /// The golden criterion: each of torchvision's top <paramref name="top"/> detections has one of ours with the same label,
    /// IoU >= 0.98 and score within 1e-3. Returns the failures (empty when all match).
    /// </summary>
    public static List<string> Compare(DetectionOutput expected, DetectionOutput actual, int top = 50)
    {
        var failures = new List<string>();
        var eb = expected.Boxes.data<float>().ToArray();
        var es = expected.Scores.data<float>().ToArray();
        var el = expected.Labels.data<long>().ToArray();
        var ab = actual.Boxes.contiguous().data<float>().ToArray();
        var @as = actual.Scores.contiguous().data<float>().ToArray();
        var al = actual.Labels.contiguous().data<long>().ToArray();
        int n = Math.Min(top, es.Length);
        for (int i = 0; i < n; i++)
        {
            bool found = false;
            double bestIou = 0;
            for (int j = 0; j < @as.Length && !found; j++)
            {
                if (al[j] != el[i]) continue;
                double iou = Iou(eb.AsSpan(4 * i, 4), ab.AsSpan(4 * j, 4));
                bestIou = Math.Max(bestIou, iou);
                found = iou >= 0.98 && Math.Abs(@as[j] - es[i]) <= 1e-3;
            }
            if (!found) failures.Add($"#{i} label {el[i]} score {es[i]:F5} box [{string.Join(", ", eb.AsSpan(4 * i, 4).ToArray().Select(v => v.ToString("F2")))}] best IoU {bestIou:F4}");
        }
        if (es.Length > 0 && @as.Length == 0) failures.Add("no detections");
        return failures;
    }

    private static double Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double w = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0]));
        double h = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        double inter = w * h;
        double union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 0;
    }
}
