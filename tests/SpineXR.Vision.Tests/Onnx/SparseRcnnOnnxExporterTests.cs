using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Configuration;
using SpineXR.Vision.Detection;
using SpineXR.Vision.Detection.Ops;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Onnx;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>Sparse R-CNN's ONNX graph (RoI pooling inside, ONNX RoiAlign) in ONNX Runtime against the libtorch model (docs/onnx.md).</summary>
[Collection(TorchRngCollection.Name)]
public sealed class SparseRcnnOnnxExporterTests
{
    private readonly ITestOutputHelper _output;

    public SparseRcnnOnnxExporterTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>
    /// Weights that give spread-out scores and boxes that move: BatchNorm statistics of <paramref name="images"/>
    /// themselves (one train-mode pass with momentum 1), the learned proposals spread over a grid of sizes (so boxes
    /// land on every pyramid level), then the last stage's class layer scaled on these images so that its logits have a
    /// standard deviation of 1.5 around -1 (the focal prior's -4.6 would leave every score near 0.01, where the top-k's
    /// order is rounding noise), and every stage's box-delta layer so that deltas stay within +-0.1: boxes still move at
    /// every stage, and the six stages' float32 differences stay small (with +-0.5 the boxes jump by up to 65% a stage
    /// and the two engines' last-stage logits drift 5.7e-3 apart, 1.5e-4 after three stages: rounding amplified
    /// by a random network, the top 50 still matched within 6e-5).
    /// </summary>
    internal static void Randomise(SparseRcnn model, Tensor[] images)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var state = model.state_dict();
        var q = model.Config.NumProposals;
        var gen = new Random(3);
        var boxes = Enumerable.Range(0, q).SelectMany(_ => new[] { 0.2 + 0.6 * gen.NextDouble(), 0.2 + 0.6 * gen.NextDouble(), 0.05 + 0.9 * gen.NextDouble(), 0.05 + 0.9 * gen.NextDouble() })
            .Select(v => (float)v).ToArray();
        state["init_proposal_boxes.weight"].copy_(tensor(boxes).view(q, 4));
        OnnxDetectionMatch.BatchNormStatisticsOf(model, images);

        int last = model.Config.NumStages - 1;
        for (int s = 0; s <= last; s++)
        {
            var list = model.Transform.Forward(images);
            var deltaScale = 0.1 / Math.Max(1e-6, DeltaRange(model, list, s));
            state[$"head.head_series.{s}.bboxes_delta.weight"].mul_(deltaScale);
            state[$"head.head_series.{s}.bboxes_delta.bias"].mul_(deltaScale);
        }
        var (logits, _, _) = model.Forward(model.Transform.Forward(images));
        var lastLogits = logits[-1];
        var bias = state[$"head.head_series.{last}.class_logits.bias"];
        var weight = state[$"head.head_series.{last}.class_logits.weight"];
        double std = (lastLogits - bias).std().item<float>();
        weight.mul_(1.5 / std);
        bias.fill_(-1.0);
    }

    // The largest |delta| stage s's box layer gives on these images, through a forward hook on its Linear.
    private static double DeltaRange(SparseRcnn model, ImageList list, int stage)
    {
        var layer = (nn.Module<Tensor, Tensor>)model.named_modules().First(m => m.name == $"head.head_series.{stage}.bboxes_delta").module;
        double range = 0;
        var handle = layer.register_forward_hook((_, _, output) => { range = Math.Max(range, output.abs().max().item<float>()); return output; });
        try { model.Forward(list); }
        finally { handle.remove(); }
        return range;
    }

    private static double MaxAbs(Tensor a) => a.numel() == 0 ? 0 : a.abs().max().item<float>();

    private void CompareEngines(DetectorTrainConfig config, (int H, int W)[] sizes, string what, string keepAs)
    {
        torch.manual_seed(21);
        using var model = (SparseRcnn)config.BuildModel(7);
        using var scope = NewDisposeScope();
        var images = OnnxDetectionMatch.Images(sizes);
        Randomise(model, images);
        var proto = SparseRcnnOnnxExporter.Build(model);
        // SPINEXR_ONNX_KEEP=DIR leaves the export there for tools/onnx/check_onnx.py (tools/onnx/check_exports.sh)
        if (Environment.GetEnvironmentVariable("SPINEXR_ONNX_KEEP") is { Length: > 0 } keep) DenseNetOnnxExporter.Write(proto, Path.Combine(keep, keepAs + ".onnx"));
        _output.WriteLine($"{what}: {proto.Graph.Node.Count} nodes, {proto.Graph.Initializer.Count} initializers, {proto.CalculateSize()} bytes");
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu);
        using var ort = new OnnxSparseRcnn(new InferenceSession(proto.ToByteArray(), options), model.Config, what);

        // The graph's raw outputs first: the last stage's logits and boxes on the same transformed batch.
        var list = model.Transform.Forward(images);
        var (logits, boxes, whwh) = model.Forward(list);
        var (oLogits, oBoxes) = ort.RunGraph(list.Tensors.contiguous(), whwh);
        double dLogits = MaxAbs(logits[-1] - oLogits), dBoxes = MaxAbs(boxes[-1] - oBoxes);
        _output.WriteLine($"{what}: batch {string.Join("x", list.Tensors.shape)}, last stage max |onnx - torch| logits {dLogits:E2} " +
                          $"(max |logit| {MaxAbs(logits[-1]):G3}), boxes {dBoxes:E2} px (max {MaxAbs(boxes[-1]):G4})");
        Assert.True(dLogits <= 1e-3 * Math.Max(1, MaxAbs(logits[-1])) && dBoxes <= 1e-2, $"{what}: graph outputs differ by {dLogits} / {dBoxes}");

        var expected = model.Detect(images);
        var got = ort.Detect(images);
        for (int i = 0; i < images.Length; i++)
            _output.WriteLine(OnnxDetectionMatch.Assert50(expected[i], got[i], $"{what} image {i} ({sizes[i].H}x{sizes[i].W})"));
    }

    [Fact]
    public void CpuPresetMatchesLibtorchOnABatchOfTwoSizes()
    {
        // two sizes: the second image is padded inside the batch, and its own size scales its proposals and clips its boxes
        CompareEngines(DetectorTrainConfig.Cpu("sparse-rcnn"), [(300, 360), (280, 400)], "sparse-rcnn cpu preset", "sparse_rcnn_cpu");
    }

    /// <summary>The official R50-FPN layout (256 channels, FFN 2048, 6 stages, 100 proposals) at a small input size to keep the time down.</summary>
    [Fact]
    public void PaperLayoutMatchesLibtorch()
    {
        var config = DetectorTrainConfig.Paper("sparse-rcnn").With([new("min_sizes", "320"), new("max_size", "416"), new("frozen_batch_norm", "false")]);
        CompareEngines(config, [(320, 400)], "sparse-rcnn R50-FPN", "sparse_rcnn_r50");
    }

    [Fact]
    public void EveryWeightIsAnInitializerUnderItsOfficialName()
    {
        torch.manual_seed(3);
        using var model = new SparseRcnn(SparseRcnnConfig.Tiny());
        var proto = SparseRcnnOnnxExporter.Build(model);
        var initializers = proto.Graph.Initializer.Select(t => t.Name).ToHashSet();
        var weights = model.state_dict().Keys.Where(k => !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).ToList();
        Assert.All(weights, k => Assert.Contains(k, initializers));
        Assert.Contains("head.head_series.2.self_attn.in_proj_weight", initializers);
        Assert.Equal(3 * 4, proto.Graph.Node.Count(n => n.OpType == "RoiAlign")); // every stage pools on P2..P5
    }

    [Fact]
    public void AnotherModelsExportIsRefusedNamingWhatItLacks()
    {
        torch.manual_seed(3);
        using var classifier = SpineXR.Vision.Models.DenseNets.Create("densenet_tiny", 1);
        classifier.eval();
        using var options = OnnxRunModel.Options(InferenceDevice.Cpu);
        var session = new InferenceSession(DenseNetOnnxExporter.Build(classifier, inputSize: 64).ToByteArray(), options);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => new OnnxSparseRcnn(session, SparseRcnnConfig.Tiny(), "cls.onnx"));
            Assert.Equal("cls.onnx: not a SpineXR Sparse R-CNN export (no input 'images')", e.Message);
        }
        finally { session.Dispose(); }
    }

    [Fact]
    public void RunDirectoryPredictsAlikeOnBothEngines()
    {
        var config = DetectorTrainConfig.Cpu("sparse-rcnn").With([new("min_sizes", "192"), new("max_size", "256")]);
        _output.WriteLine(OnnxDetectionMatch.RunDirectoryRoundTrip(config, "sparse_rcnn_resnet18_fpn", (m, px) => Randomise((SparseRcnn)m, px)));
    }
}
