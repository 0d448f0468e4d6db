using System.Globalization;
using System.Text.Json;
using SpineXR.Imaging;
using SpineXR.Vision;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Models;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;

namespace SpineXR.Cli.Tests.Commands;

/// <summary>`model export` of both run kinds, then `predict --backend onnx` against the default libtorch backend.</summary>
public sealed class OnnxBackendCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-onnx-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Classifier, string Detector, string Images) Runs()
    {
        TorchRuntime.EnsureLoaded();
        TorchSharp.torch.manual_seed(4);
        string cls = Path.Combine(_dir, "cls"), det = Path.Combine(_dir, "det"), images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(cls);
        Directory.CreateDirectory(det);
        Directory.CreateDirectory(images);
        using (var model = DenseNets.Create("densenet_tiny", 1)) StateDict.SaveSafeTensors(model, Path.Combine(cls, "weights.safetensors"));
        new ModelCard("classifier", "densenet_tiny", ["abnormal"], 64, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [],
            new Provenance("test", JsonDocument.Parse("{}").RootElement, "unknown", DateTime.UnixEpoch, 0)).Save(cls);
        var config = DetectorTrainConfig.Cpu("retinanet").With([new("base_width", "8"), new("fpn_channels", "16"), new("min_sizes", "128"), new("max_size", "160")]);
        using (var model = config.BuildModel(3)) StateDict.SaveSafeTensors(model, Path.Combine(det, "weights.safetensors"));
        DetectorTrainer.Card(config, ["a", "b", "c"], "test", null).Save(det);
        for (int i = 0; i < 2; i++)
        {
            int w = 150 + 20 * i, h = 120;
            var px = new byte[w * h];
            for (int k = 0; k < px.Length; k++) px[k] = (byte)(((k % w) * 255 / w) ^ ((k / w) * (3 + i)));
            PngWriter.SaveGray8(Path.Combine(images, $"img{i}.png"), w, h, px);
        }
        return (cls, det, images);
    }

    private static Dictionary<string, double> Logits(string outDir) =>
        File.ReadAllLines(Path.Combine(outDir, "classifier_predictions.csv")).Skip(1)
            .Select(l => l.Split(','))
            .ToDictionary(f => f[0], f => double.Parse(f[2], CultureInfo.InvariantCulture));

    /// <summary>`predict` of <paramref name="images"/> with both runs on the libtorch and on the onnx backend; the two output folders.</summary>
    internal static (string Libtorch, string Onnx) PredictOnBothBackends(string dir, string images, string classifier, string detector)
    {
        string a = Path.Combine(dir, "out-libtorch"), b = Path.Combine(dir, "out-onnx");
        Assert.Equal(0, Program.Run(["predict", images, "--classifier", classifier, "--detector", detector, "--out", a, "--no-overlays", "--quiet"]));
        Assert.Equal(0, Program.Run(["predict", images, "--classifier", classifier, "--detector", detector, "--out", b, "--no-overlays", "--quiet", "--backend", "onnx"]));
        return (a, b);
    }

    [Fact]
    public void ExportedRunsPredictAsLibtorchOnTheOnnxBackend()
    {
        var (cls, det, images) = Runs();
        Assert.Equal(0, Program.Run(["model", "export", cls, "--format", "onnx", "--out", Path.Combine(cls, "model.onnx")]));
        Assert.Equal(0, Program.Run(["model", "export", det, "--format", "onnx", "--out", Path.Combine(det, "model.onnx")]));

        var (a, b) = PredictOnBothBackends(_dir, images, cls, det);

        var expected = Logits(a);
        var got = Logits(b);
        Assert.Equal(2, expected.Count);
        Assert.Equal(expected.Keys.Order(), got.Keys.Order());
        foreach (var (id, logit) in expected) Assert.True(Math.Abs(got[id] - logit) <= 1e-4, $"{id}: onnx {got[id]} vs libtorch {logit}");
    }

    [Fact]
    public void QuantizedClassifierExportRunsOnTheOnnxBackend()
    {
        var (cls, det, images) = Runs();
        string onnx = Path.Combine(cls, "model.onnx");
        Assert.Equal("--quantize and --calibration go together",
            Assert.Throws<UsageException>(() => Program.Run(["model", "export", cls, "--format", "onnx", "--out", onnx, "--quantize", "int8"])).Message);
        Assert.EndsWith("--quantize is for classifiers only: int8 moved the demo detector's mAP@0.5 by 5.7 points (docs/onnx.md#quantisation)",
            Assert.Throws<UsageException>(() => Program.Run(["model", "export", det, "--format", "onnx", "--out", Path.Combine(det, "q.onnx"), "--quantize", "int8", "--calibration", images])).Message);
        Assert.False(File.Exists(onnx) || File.Exists(Path.Combine(det, "q.onnx")), "a refused export wrote a file");
        Assert.Equal(0, Program.Run(["model", "export", cls, "--format", "onnx", "--out", onnx, "--quantize", "int8", "--calibration", images]));
        var model = SpineXR.Vision.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnx));
        Assert.Contains(model.MetadataProps, p => p.Key == SpineXR.Vision.Onnx.OnnxQuantizer.MetadataKey && p.Value.Contains("2 calibration images", StringComparison.Ordinal));
        Assert.Contains(model.Graph.Node, n => n.OpType == "QuantizeLinear");
        Assert.Equal(0, Program.Run(["model", "export", det, "--format", "onnx", "--out", Path.Combine(det, "model.onnx")]));

        var (a, b) = PredictOnBothBackends(_dir, images, cls, det);
        var expected = Logits(a);
        var got = Logits(b);
        Assert.Equal(expected.Keys.Order(), got.Keys.Order());
        // int8 on the very images it was calibrated on: close to float, not equal
        foreach (var (id, logit) in expected) Assert.True(Math.Abs(got[id] - logit) <= 0.05 + 0.05 * Math.Abs(logit), $"{id}: int8 {got[id]} vs libtorch {logit}");
    }

    /// <summary>A narrow Faster R-CNN run with heads scaled so that objectness and class scores spread (no near-ties for NMS to break either way).</summary>
    private string FasterRcnnRun(string name)
    {
        string det = Path.Combine(_dir, name);
        Directory.CreateDirectory(det);
        var config = DetectorTrainConfig.Cpu("faster-rcnn").With([new("base_width", "8"), new("fpn_channels", "16"), new("representation_size", "32"), new("min_sizes", "128"), new("max_size", "160")]);
        TorchSharp.torch.manual_seed(7);
        using (var model = config.BuildModel(3))
        {
            using var noGrad = TorchSharp.torch.no_grad();
            foreach (var (key, t) in model.state_dict())
            {
                if (!key.StartsWith("rpn.", StringComparison.Ordinal) && !key.StartsWith("roi_heads.", StringComparison.Ordinal)) continue;
                if (key.EndsWith(".bias", StringComparison.Ordinal)) { t.fill_(0.0); continue; }
                long fanIn = t.dim() == 4 ? t.shape[1] * t.shape[2] * t.shape[3] : t.shape[1];
                double gain = key.Contains("cls_logits") ? 20.0 : key.Contains("bbox_pred") ? 0.05 : key.Contains("cls_score") ? 4.0 : 2.0;
                t.normal_(0, Math.Sqrt(gain / fanIn));
            }
            StateDict.SaveSafeTensors(model, Path.Combine(det, "weights.safetensors"));
        }
        DetectorTrainer.Card(config, ["a", "b", "c"], "test", null).Save(det);
        return det;
    }

    /// <summary>detections.json as (image, class, box xyxy, score).</summary>
    private static List<(string Image, int Class, double[] Box, double Score)> Detections(string outDir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "detections.json")));
        return doc.RootElement.EnumerateArray().Select(e =>
        {
            var b = e.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            return (e.GetProperty("image_id").GetString()!, e.GetProperty("category_id").GetInt32(), new[] { b[0], b[1], b[0] + b[2], b[1] + b[3] },
                e.GetProperty("score").GetDouble());
        }).ToList();
    }

    private static double Iou(double[] a, double[] b)
    {
        double w = Math.Max(0, Math.Min(a[2], b[2]) - Math.Max(a[0], b[0])), h = Math.Max(0, Math.Min(a[3], b[3]) - Math.Max(a[1], b[1]));
        double inter = w * h, union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 1;
    }

    [Fact]
    public void FasterRcnnRunPredictsAsLibtorchOnTheOnnxBackend()
    {
        var (cls, _, images) = Runs();
        string det = FasterRcnnRun("frcnn");
        Assert.Equal(0, Program.Run(["model", "export", cls, "--format", "onnx", "--out", Path.Combine(cls, "model.onnx")]));
        Assert.Equal(0, Program.Run(["model", "export", det, "--format", "onnx", "--out", Path.Combine(det, "model.onnx")]));

        var (a, b) = PredictOnBothBackends(_dir, images, cls, det);

        var expected = Detections(a);
        var got = Detections(b);
        foreach (var image in expected.Select(d => d.Image).Distinct())
        {
            var top = expected.Where(d => d.Image == image).OrderByDescending(d => d.Score).Take(20).ToList();
            Assert.True(top.Count >= 20, $"{image}: only {top.Count} libtorch detections");
            foreach (var d in top)
                Assert.True(got.Any(g => g.Image == image && g.Class == d.Class && Math.Abs(g.Score - d.Score) <= 1e-3 && Iou(g.Box, d.Box) >= 0.98),
                    $"{image}: libtorch detection (class {d.Class}, score {d.Score}) has no onnx match");
        }
    }

    [Fact]
    public void OnnxBackendWithoutAnExportNamesTheMissingFile()
    {
        var (cls, det, images) = Runs();
        var e = Assert.Throws<InvalidDataException>(() =>
            Program.Run(["predict", images, "--classifier", cls, "--detector", det, "--out", Path.Combine(_dir, "o"), "--backend", "onnx"]));
        Assert.Contains(Path.Combine(cls, "model.onnx") + ": not found", Program.OneLine(e));

        // serve loads the same pipeline before it listens: the same one-line error, no server started
        e = Assert.Throws<InvalidDataException>(() =>
            Program.Run(["serve", "--classifier", cls, "--detector", det, "--urls", "http://127.0.0.1:0", "--backend", "onnx"]));
        Assert.Contains(Path.Combine(cls, "model.onnx") + ": not found", Program.OneLine(e));
    }
}
