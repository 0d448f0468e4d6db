using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Onnx.Proto;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>BatchNorm folding, calibration and the QDQ rewrite of <see cref="OnnxQuantizer"/>.</summary>
[Collection(TorchRngCollection.Name)]
public sealed class OnnxQuantizerTests
{
    private readonly ITestOutputHelper _output;

    public OnnxQuantizerTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    [Fact]
    public void Weights_are_quantised_per_output_channel_to_seven_bits()
    {
        // channel 0: max |w| 0.63 -> scale 0.01; channel 1: all zero -> scale 1, q 0
        var (q, scales) = OnnxQuantizer.QuantizeWeights([0.63f, -0.3f, 0.001f, -0.63f, 0f, 0f, 0f, 0f], 2);
        Assert.Equal(0.01f, scales[0], 6);
        Assert.Equal(1f, scales[1]);
        Assert.Equal(new sbyte[] { 63, -30, 0, -63, 0, 0, 0, 0 }, q);
    }

    [Fact]
    public void Activation_ranges_include_zero_and_map_it_exactly()
    {
        var (s, zp) = new ActivationRange(-1f, 3f).Uint8();
        Assert.Equal(4f / 255f, s);
        Assert.Equal(64, zp); // round(1 / (4/255)) = round(63.75)
        (s, zp) = new ActivationRange(0.5f, 2f).Uint8(); // after a ReLU: [0, 2]
        Assert.Equal(2f / 255f, s);
        Assert.Equal(0, zp);
        Assert.Equal((1f, (byte)0), new ActivationRange(0f, 0f).Uint8()); // a dead channel
    }

    /// <summary>input -> Conv (bias) -> BatchNorm -> Relu -> Conv -> output, hand-built.</summary>
    private static ModelProto TinyGraph()
    {
        var g = new OnnxGraph("tiny");
        g.AddInput("x", "batch", 2L, 4L, 4L);
        var rng = new Random(3);
        Tensor T(long[] shape, double lo, double hi) =>
            torch.tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(lo + rng.NextDouble() * (hi - lo))).ToArray(), shape);
        using (var t = T([3, 2, 3, 3], -1, 1)) g.AddInitializer("c1.weight", t);
        using (var t = T([3], -0.1, 0.1)) g.AddInitializer("c1.bias", t);
        using (var t = T([3], 0.5, 1.5)) g.AddInitializer("bn.weight", t);
        using (var t = T([3], -0.1, 0.1)) g.AddInitializer("bn.bias", t);
        using (var t = T([3], -0.1, 0.1)) g.AddInitializer("bn.running_mean", t);
        using (var t = T([3], 0.5, 1.5)) g.AddInitializer("bn.running_var", t);
        using (var t = T([1, 3, 1, 1], -1, 1)) g.AddInitializer("c2.weight", t);
        var conv = new[] { OnnxGraph.Ints("kernel_shape", 3, 3), OnnxGraph.Ints("pads", 1, 1, 1, 1) };
        g.Node("Conv", "c1", ["x", "c1.weight", "c1.bias"], conv);
        g.Node("BatchNormalization", "bn", ["c1", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"], OnnxGraph.Float("epsilon", 1e-3f));
        g.Node("Relu", "relu", ["bn"]);
        g.Node("Conv", "y", ["relu", "c2.weight"], OnnxGraph.Ints("kernel_shape", 1, 1));
        g.AddOutput("y", "batch", 1L, 4L, 4L);
        return g.ToModel(17, "test", []);
    }

    private static float[] Run(ModelProto model, float[] x, long[] shape, string input = "x", string output = "y",
        GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_ALL, string? optimizedPath = null)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = level, IntraOpNumThreads = 1 };
        if (optimizedPath is not null) options.OptimizedModelFilePath = optimizedPath;
        using var session = new InferenceSession(model.ToByteArray(), options);
        using var value = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var run = new RunOptions();
        using var outputs = session.Run(run, [input], [value], [output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    [Fact]
    public void Folding_removes_the_batchnorm_and_keeps_the_function()
    {
        var model = TinyGraph();
        var folded = OnnxQuantizer.FoldBatchNorms(model);
        Assert.Equal(new[] { "Conv", "Relu", "Conv" }, folded.Graph.Node.Select(n => n.OpType));
        Assert.DoesNotContain(folded.Graph.Initializer, t => t.Name.StartsWith("bn.running", StringComparison.Ordinal) || t.Name == "c1.weight");
        float[] x = Random(2 * 2 * 4 * 4, 1);
        float[] a = Run(model, x, [2, 2, 4, 4], level: GraphOptimizationLevel.ORT_DISABLE_ALL);
        float[] b = Run(folded, x, [2, 2, 4, 4], level: GraphOptimizationLevel.ORT_DISABLE_ALL);
        Assert.True(a.Zip(b, (p, q) => Math.Abs(p - q)).Max() < 1e-5, "folded graph computes something else");
    }

    [Fact]
    public void Quantised_graph_has_qdq_pairs_where_the_plan_says_and_stays_close()
    {
        var folded = OnnxQuantizer.FoldBatchNorms(TinyGraph());
        Assert.Equal(new[] { "x", "relu" }, OnnxQuantizer.Activations(folded)); // y is a graph output: stays float
        float[] calib = Random(8 * 2 * 4 * 4, 2);
        var ranges = OnnxQuantizer.Calibrate(folded, [new Dictionary<string, (float[], long[])> { ["x"] = (calib, [8, 2, 4, 4]) }]);
        Assert.InRange(ranges["x"].Min, -2f, -1.9f);
        Assert.Equal(0f, ranges["relu"].Min);
        var q = OnnxQuantizer.Quantize(folded, ranges);
        // c1 between two Q/DQ pairs with int8 weights and int32 bias; c2 writes the graph output, so it stays a float Conv
        Assert.Equal(
            new[] { "QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "DequantizeLinear", "Conv", "Relu", "QuantizeLinear", "DequantizeLinear", "Conv" },
            q.Graph.Node.Select(n => n.OpType));
        var bias = q.Graph.Initializer.Single(t => t.Name == "bn.bias.quantized"); // c1's output took the folded BatchNorm's name
        Assert.Equal((int)TensorProto.Types.DataType.Int32, bias.DataType);
        Assert.Equal((int)TensorProto.Types.DataType.Int8, q.Graph.Initializer.Single(t => t.Name == "bn.folded_weight.quantized").DataType);
        Assert.Equal((int)TensorProto.Types.DataType.Float, q.Graph.Initializer.Single(t => t.Name == "c2.weight").DataType);

        float[] x = calib.AsSpan(0, 2 * 2 * 4 * 4).ToArray();
        float[] f = Run(folded, x, [2, 2, 4, 4]);
        float[] i8 = Run(q, x, [2, 2, 4, 4]);
        double err = f.Zip(i8, (a, b) => Math.Abs(a - b)).Max(), mag = f.Max(Math.Abs);
        _output.WriteLine($"tiny graph: max |int8 - float| {err:E2} of max |y| {mag:G3}");
        Assert.True(err < 0.03 * mag, $"int8 output off by {err} (max |y| {mag})");
    }

    /// <summary>
    /// A head conv with a large bias behind an input that is nearly constant (a randomly initialised EfficientDet class
    /// net: input range 1e-6, prior bias -4.6) would need a bias beyond int32 at input scale x weight scale. It stays
    /// float, and reads the float input: left between a DQ and a Q, ONNX Runtime quantised it again at load and saturated
    /// the bias, so every class logit came out 0 instead of -4.6 (found with EfficientDet's `cpu` preset).
    /// </summary>
    [Fact]
    public void A_conv_whose_bias_cannot_be_int32_stays_float_and_onnxruntime_keeps_it_so()
    {
        var g = new OnnxGraph("dead-input");
        g.AddInput("x", 1L, 2L, 4L, 4L);
        var rng = new Random(5);
        Tensor T(long[] shape, double scale, double offset = 0) =>
            torch.tensor(Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)(offset + scale * (rng.NextDouble() * 2 - 1))).ToArray(), shape);
        using (var t = T([3, 2, 1, 1], 1e-7)) g.AddInitializer("c1.weight", t); // output within about 1e-6 of 0
        using (var t = T([4, 3, 1, 1], 0.05)) g.AddInitializer("head.weight", t);
        using (var t = T([4], 0.01, -4.6)) g.AddInitializer("head.bias", t);
        g.AddInt64Initializer("flat", 1, -1);
        g.Node("Conv", "c1", ["x", "c1.weight"], OnnxGraph.Ints("kernel_shape", 1, 1));
        g.Node("Conv", "head", ["c1", "head.weight", "head.bias"], OnnxGraph.Ints("kernel_shape", 1, 1));
        g.Node("Reshape", "y", ["head", "flat"]);
        g.AddOutput("y", 1L, 64L);
        var model = g.ToModel(17, "test", []);

        float[] x = Random(2 * 4 * 4, 7);
        var ranges = OnnxQuantizer.Calibrate(model, [new Dictionary<string, (float[], long[])> { ["x"] = (x, [1, 2, 4, 4]) }]);
        var q = OnnxQuantizer.Quantize(model, ranges);
        var head = q.Graph.Node.Single(n => n.Name == "head");
        Assert.Equal(new[] { "c1", "head.weight", "head.bias" }, head.Input); // float input, float weights and bias
        Assert.Equal("c1.weight.dequantized", q.Graph.Node.Single(n => n.Name == "c1").Input[1]); // c1 itself is int8

        float[] f = Run(model, x, [1, 2, 4, 4]);
        float[] i8 = Run(q, x, [1, 2, 4, 4]); // all of ONNX Runtime's optimisations
        double err = f.Zip(i8, (a, b) => Math.Abs(a - b)).Max();
        _output.WriteLine($"dead input: max |int8 - float| {err:E2} of max |y| {f.Max(Math.Abs):G3}");
        Assert.True(err < 0.05, $"head output off by {err} (bias saturated?)");
    }

    [Fact]
    public void OnnxRuntime_runs_a_quantised_resnet_with_integer_convolutions()
    {
        using var model = ResNetOnnxExporterTests.RandomResNet("resnet18");
        var onnx = ResNetOnnxExporter.Build(model);
        var folded = OnnxQuantizer.FoldBatchNorms(onnx);
        Assert.DoesNotContain(folded.Graph.Node, n => n.OpType == "BatchNormalization"); // every ResNet BN follows a Conv
        long[] shape = [4, 3, 64, 64];
        float[] calib = Random(4 * 3 * 64 * 64, 5), test = Random(4 * 3 * 64 * 64, 6);
        var ranges = OnnxQuantizer.Calibrate(folded, [new Dictionary<string, (float[], long[])> { [DenseNetOnnxExporter.InputName] = (calib, shape) }]);
        var q = OnnxQuantizer.Quantize(folded, ranges);

        string optimized = Path.Combine(Path.GetTempPath(), $"spinexr-qdq-{Environment.ProcessId}.onnx");
        try
        {
            float[] i8 = Run(q, test, shape, DenseNetOnnxExporter.InputName, DenseNetOnnxExporter.OutputName,
                GraphOptimizationLevel.ORT_ENABLE_EXTENDED, optimized);
            var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
            _output.WriteLine("optimised: " + string.Join(", ", ops.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
            // all 20 convolutions run as integer kernels; no float Conv is left
            Assert.Equal(20, ops.GetValueOrDefault("QLinearConv"));
            Assert.False(ops.ContainsKey("Conv"), "a convolution stayed float");

            float[] f = Run(onnx, test, shape, DenseNetOnnxExporter.InputName, DenseNetOnnxExporter.OutputName);
            double err = f.Zip(i8, (a, b) => Math.Abs(a - b)).Max(), mag = f.Max(Math.Abs);
            _output.WriteLine($"resnet18: max |int8 - float| {err:E2} of max |logit| {mag:G3}");
            Assert.True(err < 0.1 * mag, $"int8 logits off by {err} (max |logit| {mag})");
        }
        finally
        {
            File.Delete(optimized);
        }
    }
}
