using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Configuration;
using SpineXR.Vision.Data;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Inference;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>EfficientDet's ONNX graph in ONNX Runtime + the shared C# post-processing against the libtorch model (docs/onnx.md).</summary>
[Collection(TorchRngCollection.Name)]
public sealed class EfficientDetOnnxExporterTests
{
    private readonly ITestOutputHelper _output;

    public EfficientDetOnnxExporterTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>
    /// Weights that exercise every part of the graph and give spread-out scores: BiFPN edge weights drawn from
    /// [-0.5, 1.5) (some fusion inputs switched off by the Relu), BatchNorm statistics of <paramref name="images"/>
    /// themselves (one train-mode pass with momentum 1), then the class net's output conv scaled so that its logits on
    /// these images stay within -2 +- 4, which keeps scores below saturation (where hundreds of boxes would tie within
    /// rounding and NMS could keep either), and the box net's so that the deltas stay within +-1.
    /// </summary>
    internal static void Randomise(EfficientDet model, Tensor[] images)
    {
        using var _ = no_grad();
        foreach (var (name, t) in model.named_parameters())
        {
            if (name.EndsWith(".edge_weights", StringComparison.Ordinal)) t.uniform_(-0.5, 1.5);
            else if (name == "class_net.predict.conv_pw.bias") t.fill_(-2.0);
        }
        OnnxDetectionMatch.BatchNormStatisticsOf(model, images);
        using var scope = NewDisposeScope();
        // A channel (nearly) constant over these images gets a variance near 0, and its BatchNorm then multiplies float32
        // rounding by up to 1/sqrt(1e-3) = 32: through D3's six BiFPN cells libtorch's own float32 logits strayed 0.5 from
        // float64 (ONNX Runtime's 0.65). Trained statistics are not like that; a floor of 0.01 keeps the test about the graph.
        foreach (var (_, m) in model.named_modules())
            if (m is TorchSharp.Modules.BatchNorm2d bn) bn.running_var!.clamp_min_(0.01);
        // then the output convs rescaled on these images: class logits within -2 +- 4 (top scores near 0.88), box deltas within +-1
        var (cls, box, _) = model.HeadOutputs(model.Transform.Forward(images).Tensors);
        double clsRange = (cls + 2.0).abs().max().item<float>(), boxRange = box.abs().max().item<float>();
        foreach (var (name, t) in model.named_parameters())
        {
            if (name == "class_net.predict.conv_pw.weight") t.mul_(4 / clsRange);
            else if (name == "box_net.predict.conv_pw.weight") t.div_(boxRange);
            else if (name == "box_net.predict.conv_pw.bias") t.zero_();
        }
    }

    private void CompareEngines(DetectorTrainConfig config, (int H, int W)[] sizes, string what, string keepAs)
    {
        torch.manual_seed(21);
        using var model = (EfficientDet)config.BuildModel(7);
        using var scope = NewDisposeScope();
        var images = OnnxDetectionMatch.Images(sizes);
        Randomise(model, images);
        var proto = EfficientDetOnnxExporter.Build(model);
        // SPINEXR_ONNX_KEEP=DIR leaves the export there for tools/onnx/check_onnx.py (tools/onnx/check_exports.sh)
        if (Environment.GetEnvironmentVariable("SPINEXR_ONNX_KEEP") is { Length: > 0 } keep) DenseNetOnnxExporter.Write(proto, Path.Combine(keep, keepAs + ".onnx"));
        _output.WriteLine($"{what}: {proto.Graph.Node.Count} nodes, {proto.Graph.Initializer.Count} initializers, {proto.CalculateSize()} bytes");
        byte[] onnx = proto.ToByteArray();
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu);
        using var ort = new OnnxEfficientDet(new InferenceSession(onnx, options), model.Config, what);

        // The graph's raw outputs first: class and box nets on the same transformed batch.
        var batch = model.Transform.Forward(images).Tensors;
        var (cls, box, levels) = model.HeadOutputs(batch);
        var (oc, ob, olevels) = ort.RunGraph(batch.contiguous());
        // and both float32 engines against libtorch in float64: the graph computes the model's function when ONNX Runtime
        // strays from it no more than libtorch's own float32 does (within a factor for the different kernels)
        model.to(ScalarType.Float64);
        var (c64, _, _) = model.HeadOutputs(batch.to(ScalarType.Float64));
        model.to(ScalarType.Float32);
        double e32 = (cls.to(ScalarType.Float64) - c64).abs().max().item<double>(), eOnnx = (oc.to(ScalarType.Float64) - c64).abs().max().item<double>();
        _output.WriteLine($"{what}: class logits against libtorch float64: libtorch float32 {e32:E2}, onnx {eOnnx:E2}");
        Assert.True(eOnnx <= 3 * Math.Max(e32, 1e-5), $"{what}: onnx strays {eOnnx} from float64, libtorch float32 {e32}");
        Assert.Equal(levels, olevels);
        double dc = (cls - oc).abs().max().item<float>(), db = (box - ob).abs().max().item<float>();
        _output.WriteLine($"{what}: batch {string.Join("x", batch.shape)}, heads max |onnx - torch| cls {dc:E2} (max |logit| {cls.abs().max().item<float>():G3}), " +
                          $"box {db:E2} (max {box.abs().max().item<float>():G3})");
        Assert.True(dc <= 1e-3 && db <= 1e-3, $"{what}: head outputs differ by {dc} / {db}");

        var expected = model.Detect(images);
        var got = ort.Detect(images);
        for (int i = 0; i < images.Length; i++)
            _output.WriteLine(OnnxDetectionMatch.Assert50(expected[i], got[i], $"{what} image {i} ({sizes[i].H}x{sizes[i].W})"));
    }

    [Fact]
    public void CpuPresetMatchesLibtorchOnABatchOfTwoSizes()
    {
        // the cpu preset's reduced D0 (half-width, half-depth B0, two BiFPN cells) at 384 px instead of 512 to keep the
        // time down: two sizes, so the second image is padded inside the 384 x 384 batch and its own size clips and rescales its boxes
        var config = DetectorTrainConfig.Cpu("efficientdet-d0").With([new("min_sizes", "384"), new("max_size", "384")]);
        CompareEngines(config, [(300, 360), (280, 400)], "efficientdet-d0 cpu preset", "efficientdet_d0_cpu");
    }

    /// <summary>
    /// The published D0..D3 (B0..B3 backbones, BiFPN 64/88/112/160 channels of 3/4/5/6 cells, 3/3/3/4 head convs) at
    /// 256 px instead of 512..896 to keep the time down, and a non-square batch: the exporter reads the widths, depths
    /// and repeats from the run's configuration, and each variant's graph is compared.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void PublishedVariantsMatchLibtorch(int phi)
    {
        var config = DetectorTrainConfig.Paper($"efficientdet-d{phi}").With([new("min_sizes", "256"), new("max_size", "384")]);
        CompareEngines(config, [(256, 352)], $"efficientdet-d{phi}", $"efficientdet_d{phi}");
    }

    [Fact]
    public void EveryWeightIsAnInitializerUnderItsStateDictName()
    {
        torch.manual_seed(3);
        var config = DetectorTrainConfig.Cpu("efficientdet-d0").With([new("fpn_channels", "16"), new("backbone_width", "0.25"), new("min_sizes", "128"), new("max_size", "128")]);
        using var model = (EfficientDet)config.BuildModel(3);
        var proto = EfficientDetOnnxExporter.Build(model);
        var initializers = proto.Graph.Initializer.Select(t => t.Name).ToHashSet();
        var weights = model.state_dict().Keys.Where(k => !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.All(weights, k => Assert.Contains(k, initializers));
        Assert.Contains("fpn.cell.0.fnode.4.combine.edge_weights", initializers);
        // the depthwise convs are grouped: one group per channel
        var dw = proto.Graph.Node.Single(n => n.Name == "fpn.cell.0.fnode.0.after_combine.conv.conv_dw");
        Assert.Equal(16, dw.Attribute.Single(a => a.Name == "group").I);
        // shared head convs appear once per level, under the module path with the level
        Assert.Equal(5, proto.Graph.Node.Count(n => n.Name.StartsWith("class_net.predict.conv_pw@", StringComparison.Ordinal)));
    }

    [Fact]
    public void RunDirectoryExportRunsOnTheOnnxBackendAndIsTiedToItsWeights()
    {
        // the cpu preset's graph at a test size: quarter-width B0, 16-channel BiFPN
        var config = DetectorTrainConfig.Cpu("efficientdet-d0").With([new("fpn_channels", "16"), new("backbone_width", "0.25"), new("min_sizes", "192"), new("max_size", "256")]);
        _output.WriteLine(OnnxDetectionMatch.RunDirectoryRoundTrip(config, "efficientdet_d0", (m, px) => Randomise((EfficientDet)m, px)));
    }
}
