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

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>RetinaNet's ONNX graph in ONNX Runtime + the shared C# post-processing against the libtorch model (docs/onnx.md).</summary>
[Collection(TorchRngCollection.Name)]
public sealed class RetinaNetOnnxExporterTests
{
    private readonly ITestOutputHelper _output;

    public RetinaNetOnnxExporterTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>
    /// Weights that give spread-out scores (the prior's -4.6 bias would leave no box above the 0.05 threshold, and
    /// scores saturated near 1 would tie within ONNX Runtime's rounding and let NMS keep either of two boxes): BatchNorm statistics of <paramref name="images"/> themselves (one train-mode pass
    /// with momentum 1), heads with variance-preserving weights, classification logits centred below 0.
    /// </summary>
    private static void Randomise(RetinaNet model, Tensor[] images)
    {
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            if (!name.StartsWith("head.", StringComparison.Ordinal)) continue;
            if (name.EndsWith(".bias", StringComparison.Ordinal)) t.fill_(name.Contains("cls_logits") ? -2.0 : 0.0);
            else t.normal_(0, Math.Sqrt((name.Contains("cls_logits") ? 0.1 : name.Contains("bbox_reg") ? 0.05 : 2.0) / (t.shape[1] * 9)));
        }
        OnnxDetectionMatch.BatchNormStatisticsOf(model, images);
    }

    private void CompareEngines(DetectorTrainConfig config, (int H, int W)[] sizes, string what, string keepAs)
    {
        torch.manual_seed(21);
        using var model = (RetinaNet)config.BuildModel(7);
        using var scope = NewDisposeScope();
        var images = OnnxDetectionMatch.Images(sizes);
        Randomise(model, images);
        var proto = RetinaNetOnnxExporter.Build(model);
        // SPINEXR_ONNX_KEEP=DIR leaves the export there for tools/onnx/check_onnx.py (tools/onnx/check_exports.sh)
        if (Environment.GetEnvironmentVariable("SPINEXR_ONNX_KEEP") is { Length: > 0 } keep) DenseNetOnnxExporter.Write(proto, Path.Combine(keep, keepAs + ".onnx"));
        byte[] onnx = proto.ToByteArray();
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu);
        using var ort = new OnnxRetinaNet(new InferenceSession(onnx, options), model.Config, what);

        // The graph's raw outputs first: the heads on the same transformed batch.
        var batch = model.Transform.Forward(images).Tensors;
        var (cls, reg) = model.HeadOutputs(batch);
        var (oc, or, _) = ort.RunGraph(batch.contiguous());
        double dc = (cls - oc).abs().max().item<float>(), dr = (reg - or).abs().max().item<float>();
        _output.WriteLine($"{what}: heads max |onnx - torch| cls {dc:E2} (max |logit| {cls.abs().max().item<float>():G3}), reg {dr:E2} (max {reg.abs().max().item<float>():G3})");
        Assert.True(dc <= 1e-3 && dr <= 1e-3, $"{what}: head outputs differ by {dc} / {dr}");

        var expected = model.Detect(images);
        var got = ort.Detect(images);
        for (int i = 0; i < images.Length; i++) _output.WriteLine(OnnxDetectionMatch.Assert50(expected[i], got[i], $"{what} image {i} ({sizes[i].H}x{sizes[i].W})"));
    }

    [Fact]
    public void CpuPresetMatchesLibtorchOnABatchOfTwoSizes()
    {
        // two sizes: the second image is padded inside the batch, and its own size clips and rescales its boxes
        CompareEngines(DetectorTrainConfig.Cpu("retinanet"), [(300, 360), (280, 400)], "retinanet cpu preset", "retinanet_cpu");
    }

    /// <summary>
    /// torchvision's retinanet_resnet50_fpn layout (Bottleneck blocks), at a small input size to keep the time down.
    /// BatchNorm rather than the paper's frozen BatchNorm, to calibrate its statistics; both export as the same four
    /// tensors in one BatchNormalization node.
    /// </summary>
    [Fact]
    public void PaperResNet50FpnMatchesLibtorch()
    {
        var paper = DetectorTrainConfig.Paper("retinanet").With([new("min_sizes", "320"), new("max_size", "400"), new("frozen_batch_norm", "false")]);
        CompareEngines(paper, [(320, 352)], "retinanet R50-FPN", "retinanet_resnet50_fpn");
    }

    [Fact]
    public void RunDirectoryExportRunsOnTheOnnxBackendAndIsTiedToItsWeights()
    {
        var config = DetectorTrainConfig.Cpu("retinanet").With([new("base_width", "8"), new("fpn_channels", "16"), new("min_sizes", "192"), new("max_size", "256")]);
        _output.WriteLine(OnnxDetectionMatch.RunDirectoryRoundTrip(config, "retinanet_resnet18_fpn", (m, px) => Randomise((RetinaNet)m, px)));
    }
}
