using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using SpineXR.Vision.Data;
using SpineXR.Vision.Configuration;
using SpineXR.Vision.Detection.Ops;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>
/// Faster R-CNN's ONNX export (its two networks) in ONNX Runtime + the shared C# steps (proposals, RoIAlign, box
/// post-processing) against the libtorch model (docs/onnx.md).
/// </summary>
[Collection(TorchRngCollection.Name)]
public sealed class FasterRcnnOnnxExporterTests
{
    private readonly ITestOutputHelper _output;

    public FasterRcnnOnnxExporterTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>
    /// Weights that give spread-out scores: BatchNorm statistics of <paramref name="images"/> themselves (one train-mode
    /// pass with momentum 1); heads with variance-preserving layers and small deltas; then the two classification layers
    /// scaled on these images so that objectness logits spread with a standard deviation of 3 (torchvision's std 0.01
    /// leaves every anchor near 0.5, and the proposals' order would be rounding noise) and class logits with 1.5 (the
    /// softmax scores differ between boxes without saturating at 1, where ties would let NMS keep either of two boxes).
    /// </summary>
    internal static void Randomise(FasterRCNN model, Tensor[] images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var state = model.state_dict();
        foreach (var (name, t) in state)
        {
            if (!name.StartsWith("rpn.", StringComparison.Ordinal) && !name.StartsWith("roi_heads.", StringComparison.Ordinal)) continue;
            if (name.EndsWith(".bias", StringComparison.Ordinal)) { t.fill_(0.0); continue; }
            long fanIn = t.dim() == 4 ? t.shape[1] * t.shape[2] * t.shape[3] : t.shape[1];
            t.normal_(0, Math.Sqrt((name.Contains("bbox_pred") ? 0.05 : 2.0) / fanIn));
        }
        OnnxDetectionMatch.BatchNormStatisticsOf(model, images);

        var list = model.Transform.Forward(images);
        var (objectness, _, features) = model.NetworkOutputs(list.Tensors); // the maps do not depend on the RPN's weights
        state["rpn.head.cls_logits.weight"].mul_(3.0 / objectness.std().item<float>());
        var (_, proposals) = model.Detect(images, null);
        var (logits, _) = model.BoxHeadOutputs(FasterRCNN.CreateBoxRoIPool().Forward(features, proposals, list.ImageSizes));
        state["roi_heads.box_predictor.cls_score.weight"].mul_(1.5 / logits.std().item<float>());
    }

    private static double MaxAbs(Tensor a) => a.numel() == 0 ? 0 : a.abs().max().item<float>();

    /// <summary>What two float32 engines may differ by on an output: 1e-3 of its largest magnitude (at least 1e-3).</summary>
    private static double Tolerance(Tensor expected) => 1e-3 * Math.Max(1, MaxAbs(expected));

    private void CompareEngines(DetectorTrainConfig config, (int H, int W)[] sizes, string what, string keepAs)
    {
        torch.manual_seed(21);
        using var model = (FasterRCNN)config.BuildModel(7);
        using var scope = NewDisposeScope();
        var images = OnnxDetectionMatch.Images(sizes);
        Randomise(model, images);
        var proto = FasterRcnnOnnxExporter.Build(model);
        // SPINEXR_ONNX_KEEP=DIR leaves the export there for tools/onnx/check_onnx.py (tools/onnx/check_exports.sh)
        if (Environment.GetEnvironmentVariable("SPINEXR_ONNX_KEEP") is { Length: > 0 } keep) DenseNetOnnxExporter.Write(proto, Path.Combine(keep, keepAs + ".onnx"));
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu);
        using var ort = new OnnxFasterRCNN(new InferenceSession(proto.ToByteArray(), options), model.Config, what);

        // The graphs' raw outputs first: the network on the same transformed batch, the box head on the same pooled features.
        var list = model.Transform.Forward(images);
        var batch = list.Tensors;
        var (obj, deltas, features) = model.NetworkOutputs(batch);
        var (oObj, oDeltas, levels, oFeatures) = ort.RunNetwork(batch.contiguous());
        Assert.Equal(5, levels.Length);
        double dObj = MaxAbs(obj - oObj), dDeltas = MaxAbs(deltas - oDeltas);
        double dFeat = features.Zip(oFeatures, (a, b) => MaxAbs(a - b)).Max(), maxFeat = features.Max(f => MaxAbs(f));
        _output.WriteLine($"{what}: network max |onnx - torch| objectness {dObj:E2} (max |logit| {MaxAbs(obj):G3}), rpn deltas {dDeltas:E2} (max {MaxAbs(deltas):G3}), " +
                          $"P2..P5 {dFeat:E2} (max {maxFeat:G3})");
        // float32 through 50-odd convolutions with different kernels: within 1e-3 of each output's largest value
        Assert.True(dObj <= Tolerance(obj) && dDeltas <= Tolerance(deltas) && dFeat <= 1e-3 * Math.Max(1, maxFeat),
            $"{what}: network outputs differ by {dObj} / {dDeltas} / {dFeat}");

        var (expected, proposals) = model.Detect(images, null);
        var boxFeatures = FasterRCNN.CreateBoxRoIPool().Forward(features, proposals, list.ImageSizes);
        var (logits, reg) = model.BoxHeadOutputs(boxFeatures);
        var (oLogits, oReg) = ort.RunBoxHead(boxFeatures.contiguous());
        double dLogits = MaxAbs(logits - oLogits), dReg = MaxAbs(reg - oReg);
        _output.WriteLine($"{what}: box head on {boxFeatures.shape[0]} RoIs max |onnx - torch| class logits {dLogits:E2} (max {MaxAbs(logits):G3}), " +
                          $"box regression {dReg:E2} (max {MaxAbs(reg):G3})");
        Assert.True(dLogits <= Tolerance(logits) && dReg <= Tolerance(reg), $"{what}: box head outputs differ by {dLogits} / {dReg}");

        var got = ort.Detect(images);
        for (int i = 0; i < images.Length; i++) _output.WriteLine(OnnxDetectionMatch.Assert50(expected[i], got[i], $"{what} image {i} ({sizes[i].H}x{sizes[i].W})"));
    }

    [Fact]
    public void CpuPresetMatchesLibtorchOnABatchOfTwoSizes()
    {
        // two sizes: the second image is padded inside the batch, and its own size clips its proposals and boxes
        CompareEngines(DetectorTrainConfig.Cpu("faster-rcnn"), [(300, 360), (280, 400)], "faster-rcnn cpu preset", "fasterrcnn_cpu");
    }

    /// <summary>
    /// torchvision's fasterrcnn_resnet50_fpn layout (Bottleneck blocks, FPN 256, TwoMLPHead 1024) at a small input size
    /// to keep the time down; BatchNorm rather than frozen BatchNorm, to calibrate its statistics (both export alike).
    /// </summary>
    [Fact]
    public void PaperResNet50FpnMatchesLibtorch()
    {
        var paper = DetectorTrainConfig.Paper("faster-rcnn").With([new("min_sizes", "320"), new("max_size", "400"), new("frozen_batch_norm", "false")]);
        CompareEngines(paper, [(320, 352)], "faster-rcnn R50-FPN", "fasterrcnn_resnet50_fpn");
    }

    [Fact]
    public void ExportFailsWhenTheGraphLeavesAWeightOut()
    {
        using var scope = NewDisposeScope();
        var writer = new OnnxModuleWriter(new OnnxGraph("g"), new Dictionary<string, Tensor> { ["a.weight"] = ones(2, 2), ["b.weight"] = ones(2, 2) });
        writer.W("a.weight");
        var e = Assert.Throws<InvalidOperationException>(writer.EnsureAllUsed);
        Assert.Contains("'b.weight'", e.Message);
        writer.W("b.weight");
        writer.EnsureAllUsed();
    }

    [Fact]
    public void RunDirectoryExportRunsOnTheOnnxBackendAndIsTiedToItsWeights()
    {
        var config = DetectorTrainConfig.Cpu("faster-rcnn").With([new("base_width", "8"), new("fpn_channels", "16"), new("representation_size", "32"), new("min_sizes", "192"), new("max_size", "256")]);
        _output.WriteLine(OnnxDetectionMatch.RunDirectoryRoundTrip(config, "fasterrcnn_resnet18_fpn", (m, px) => Randomise((FasterRCNN)m, px)));
    }

    /// <summary>
    /// The library's int8 export of a detector run (the CLI refuses it, docs/onnx.md#quantisation): calibration images
    /// are read, scaled and transformed as predict gives them to the detector, the backbone, FPN and RPN convolutions
    /// become QDQ and the box head stays float; the network's outputs stay near the float export's on an image it was
    /// calibrated on.
    /// </summary>
    [Fact]
    public void RunDirectoryExportsAsInt8WithCalibrationImagesPreparedAsPredictDoes()
    {
        string dir = Directory.CreateTempSubdirectory("spinexr-onnx-int8-").FullName;
        try
        {
            var config = DetectorTrainConfig.Cpu("faster-rcnn").With([new("min_sizes", "192"), new("max_size", "256")]);
            var pngs = Enumerable.Range(0, 3).Select(i =>
            {
                int w = 240 + 40 * i, h = 200;
                var px = new byte[w * h];
                for (int k = 0; k < px.Length; k++) px[k] = (byte)(127 + 100 * Math.Sin(k % w / (9.0 + i)) * Math.Cos(k / w / 7.0));
                string path = Path.Combine(dir, $"cal{i}.png");
                SpineXR.Imaging.PngWriter.SaveGray8(path, w, h, px);
                return path;
            }).ToList();
            torch.manual_seed(5);
            using (var model = (FasterRCNN)config.BuildModel(3))
            {
                Randomise(model, OnnxDetectionMatch.Images((200, 240)));
                StateDict.SaveSafeTensors(model, Path.Combine(dir, "weights.safetensors"));
            }
            DetectorTrainer.Card(config, ["a", "b", "c"], "test", null).Save(dir);
            string floatPath = Path.Combine(dir, "float.onnx"), int8Path = Path.Combine(dir, "int8.onnx");
            DetectorOnnxExport.ExportRun(dir, floatPath);
            DetectorOnnxExport.ExportRun(dir, int8Path, pngs);

            var q = SpineXR.Vision.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(int8Path));
            Assert.Contains(q.MetadataProps, p => p.Key == OnnxQuantizer.MetadataKey && p.Value.Contains("3 calibration images", StringComparison.Ordinal));
            Assert.Contains(q.Graph.Node, n => n.OpType == "QuantizeLinear" && n.Input[0].StartsWith("backbone.body.layer4", StringComparison.Ordinal));
            Assert.Contains(q.Graph.Node, n => n.OpType == "Gemm" && n.Input[1] == "roi_heads.box_head.fc6.weight"); // the box head, float

            // the first calibration image as the detector gets it in predict: grey levels in [0, 1], 192-px short side, transformed
            var fasterRcnn = FasterRcnnArchitecture.ModelConfig(config.Model, 3);
            var gray = ImageResize.ToShortSide(GrayImageF.From(SpineXR.Inference.SpineImageLoader.Load(pngs[0])), config.Model.MinSize);
            using var scope = NewDisposeScope();
            var image = DetectorTensor.FromGray(gray);
            var x = new GeneralizedRCNNTransform(fasterRcnn.MinSize, fasterRcnn.MaxSize).Forward([image]).Tensors.contiguous();
            using var options = OnnxRunModel.Options(InferenceDevice.Cpu);
            using var f = new OnnxFasterRCNN(new InferenceSession(floatPath, options), fasterRcnn, floatPath);
            using var i8 = new OnnxFasterRCNN(new InferenceSession(int8Path, options), fasterRcnn, int8Path);
            var (fo, fd, _, ff) = f.RunNetwork(x);
            var (qo, qd, _, qf) = i8.RunNetwork(x);
            // int8 noise relative to the signal: root-mean-square difference over root-mean-square value
            double Rms(Tensor a, Tensor b) => ((a - b).square().mean() / a.square().mean()).sqrt().item<float>();
            double dObj = Rms(fo, qo), dDeltas = Rms(fd, qd), dP2 = Rms(ff[0], qf[0]);
            _output.WriteLine($"int8 vs float32 network, rms difference / rms value: objectness {dObj:F4}, rpn deltas {dDeltas:F4}, P2 {dP2:F4}");
            // This random network quantises coarsely (measured 0.14 / 0.24 / 0.19: BatchNorm statistics of another image give
            // outlying activations that stretch the min-max ranges); a calibration that missed the inputs' real range would
            // clip them and stray far more. What int8 does to a trained detector's mAP: docs/onnx.md#quantisation.
            Assert.True(dObj <= 0.3 && dDeltas <= 0.35 && dP2 <= 0.3, $"int8 strays from float32: {dObj} / {dDeltas} / {dP2}");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
