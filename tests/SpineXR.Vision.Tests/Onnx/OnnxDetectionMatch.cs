using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>The detector export tests' inputs and their criterion (issue 21): libtorch's top 50 matched by ONNX Runtime's detections.</summary>
internal static class OnnxDetectionMatch
{
    /// <summary>Grayscale-as-RGB images of the given sizes in [0, 1], smooth enough to give structured features.</summary>
    public static Tensor[] Images(params (int H, int W)[] sizes) => sizes.Select((s, i) =>
    {
        var y = arange(s.H, ScalarType.Float32).view(-1, 1);
        var x = arange(s.W, ScalarType.Float32).view(1, -1);
        var g = (sin(y / (9 + i)) * cos(x / 13) + 1) / 2 * 0.8 + rand(s.H, s.W) * 0.2;
        return g.unsqueeze(0).expand(3, s.H, s.W).contiguous();
    }).ToArray();

    /// <summary>
    /// BatchNorm statistics of <paramref name="images"/> themselves: one train-mode pass with momentum 1 (random weights
    /// with the default statistics would give activations far from a trained model's), then eval mode.
    /// </summary>
    public static void BatchNormStatisticsOf<T>(T model, Tensor[] images) where T : nn.Module, IObjectDetector
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (_, m) in model.named_modules())
            if (m is TorchSharp.Modules.BatchNorm2d bn) bn.momentum = 1.0;
        model.train();
        var targets = images.Select(_ => new DetectionTarget(tensor(new float[] { 20, 20, 90, 120 }).view(1, 4), tensor(new long[] { 1 }))).ToList();
        model.Losses(images, targets, new Random(1));
        model.eval();
    }

    private static float Iou(float[] a, int i, float[] b, int j) =>
        Iou(new SpineXR.Boxes.BoxF(a[4 * i], a[4 * i + 1], a[4 * i + 2], a[4 * i + 3]), new SpineXR.Boxes.BoxF(b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]));

    /// <summary>
    /// IoU, with boxes of zero area (clipped flat against the image border, which random regressions produce) counted
    /// as overlapping fully when their corners agree within 0.01 pixel: their IoU would be 0 / 0.
    /// </summary>
    public static float Iou(SpineXR.Boxes.BoxF a, SpineXR.Boxes.BoxF b)
    {
        float areaA = (a.X2 - a.X1) * (a.Y2 - a.Y1), areaB = (b.X2 - b.X1) * (b.Y2 - b.Y1);
        if (areaA <= 0 || areaB <= 0)
            return Math.Max(Math.Max(Math.Abs(a.X1 - b.X1), Math.Abs(a.Y1 - b.Y1)), Math.Max(Math.Abs(a.X2 - b.X2), Math.Abs(a.Y2 - b.Y2))) <= 0.01f ? 1 : 0;
        return SpineXR.Boxes.BoxOps.Iou(a, b);
    }

    /// <summary>
    /// The criterion: each of libtorch's top 50 has an ONNX detection with its label, IoU >= 0.98, score within
    /// 1e-3. Returns a line for the test output (counts, score range, worst IoU and score difference).
    /// </summary>
    public static string Assert50(DetectionOutput expected, DetectionOutput got, string what)
    {
        var eb = TensorArrays.Read<float>(expected.Boxes); var es = TensorArrays.Read<float>(expected.Scores); var el = TensorArrays.Read<long>(expected.Labels);
        var gb = TensorArrays.Read<float>(got.Boxes); var gs = TensorArrays.Read<float>(got.Scores); var gl = TensorArrays.Read<long>(got.Labels);
        int n = Math.Min(50, es.Length);
        Assert.True(n == 50, $"{what}: libtorch gave only {es.Length} detections; the test needs 50 to mean something");
        double worstIou = 1, worstScore = 0;
        for (int i = 0; i < n; i++)
        {
            int best = -1;
            float bestIou = 0;
            for (int j = 0; j < gs.Length; j++)
            {
                if (gl[j] != el[i] || Math.Abs(gs[j] - es[i]) > 1e-3) continue;
                float iou = Iou(eb, i, gb, j);
                if (iou > bestIou) (best, bestIou) = (j, iou);
            }
            Assert.True(best >= 0 && bestIou >= 0.98, $"{what}: libtorch detection {i} (label {el[i]}, score {es[i]}) has no ONNX match (best IoU {bestIou})");
            worstIou = Math.Min(worstIou, bestIou);
            worstScore = Math.Max(worstScore, Math.Abs(gs[best] - es[i]));
        }
        return $"{what}: {es.Length} libtorch / {gs.Length} onnx detections, scores {es[0]:F3}..{es[n - 1]:F3} in the top 50; " +
               $"worst match IoU {worstIou:F5}, worst |score difference| {worstScore:E2}";
    }

    /// <summary>
    /// A run directory of <paramref name="config"/> (3 classes, weights from <paramref name="randomise"/> on one
    /// 200 x 240 test image) exported by <see cref="DetectorOnnxExport.ExportRun"/> as <paramref name="architecture"/>;
    /// <c>Detector.Load</c> on both engines, each of libtorch's top 50 detections matched by ONNX Runtime's (label,
    /// score within 1e-3, IoU >= 0.98); then retrained weights beside the old export are refused. Returns a line for the
    /// test output.
    /// </summary>
    public static string RunDirectoryRoundTrip(DetectorTrainConfig config, string architecture, Action<nn.Module, Tensor[]> randomise)
    {
        string dir = Directory.CreateTempSubdirectory("spinexr-onnx-run-").FullName;
        try
        {
            string[] classes = ["a", "b", "c"];
            torch.manual_seed(5);
            var image = new GrayImageF(Enumerable.Range(0, 200 * 240).Select(i => (float)((Math.Sin(i / 240 / 7.0) * Math.Cos(i % 240 / 11.0) + 1) / 2)).ToArray(), 240, 200);
            using (var model = config.BuildModel(classes.Length))
            using (var px = DetectorTensor.FromGray(image).contiguous())
            {
                randomise(model, [px]);
                StateDict.SaveSafeTensors(model, Path.Combine(dir, "weights.safetensors"));
            }
            DetectorTrainer.Card(config, classes, "test", null).Save(dir);
            var r = DetectorOnnxExport.ExportRun(dir, Path.Combine(dir, OnnxRunModel.FileName));
            Assert.Equal(architecture, r.Architecture);

            string line;
            using (var libtorch = Detector.Load(dir))
            using (var onnx = Detector.Load(dir, new InferenceEngine { Backend = InferenceBackend.Onnx }))
            {
                Assert.Equal(InferenceBackend.Libtorch, libtorch.Backend);
                Assert.Equal(InferenceBackend.Onnx, onnx.Backend);
                var expected = libtorch.Predict([image])[0];
                var got = onnx.Predict([image])[0];
                Assert.True(expected.Length >= 50, $"only {expected.Length} detections");
                foreach (var d in expected.Take(50))
                    Assert.Contains(got, g => g.ClassId == d.ClassId && Math.Abs(g.Score - d.Score) <= 1e-3 && Iou(g.Box, d.Box) >= 0.98);
                line = $"run directory: {expected.Length} libtorch / {got.Length} onnx detections, top 50 matched";
            }

            torch.manual_seed(6); // retrained: other weights, the old model.onnx left in place
            using (var model = config.BuildModel(classes.Length)) StateDict.SaveSafeTensors(model, Path.Combine(dir, "weights.safetensors"));
            var e = Assert.Throws<InvalidDataException>(() => Detector.Load(dir, new InferenceEngine { Backend = InferenceBackend.Onnx }));
            Assert.Contains("exported from other weights", e.Message);
            return line;
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
