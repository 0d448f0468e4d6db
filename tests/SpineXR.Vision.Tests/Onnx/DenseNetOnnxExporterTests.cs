using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SpineXR.Vision.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Onnx.Proto;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Onnx;

[Collection(TorchRngCollection.Name)]
public class DenseNetOnnxExporterTests
{
    private readonly ITestOutputHelper _output;

    public DenseNetOnnxExporterTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>Logits of the exported graph in ONNX Runtime (CPU, all graph optimisations) for a float32 NCHW input.</summary>
    private static float[] RunOnnx(byte[] model, float[] x, long[] shape, out long[] outShape)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        var input = new DenseTensor<float>(x, shape.Select(d => (int)d).ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(DenseNetOnnxExporter.InputName, input)]);
        var logits = results.Single(r => r.Name == DenseNetOnnxExporter.OutputName).AsTensor<float>();
        outShape = logits.Dimensions.ToArray().Select(d => (long)d).ToArray();
        return logits.ToArray();
    }

    private static float[] RunTorch(DenseNet model, float[] x, long[] shape)
    {
        model.eval();
        using var _ = no_grad();
        using var input = torch.tensor(x, shape);
        using var logits = model.call(input);
        return logits.contiguous().data<float>().ToArray();
    }

    private void AssertClose(float[] expected, float[] got, double tol)
    {
        Assert.Equal(expected.Length, got.Length);
        _output.WriteLine($"max |onnx - torch| = {expected.Zip(got, (a, b) => Math.Abs(a - b)).Max():E2} over {got.Length} logits, " +
                          $"max |logit| = {expected.Max(Math.Abs):G3}");
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - expected[i]) <= tol, $"logit {i}: onnx {got[i]} vs torch {expected[i]}");
    }

    [Fact]
    public void TorchvisionWeightsGiveTheSameLogitsInOnnxRuntime()
    {
        // torchvision's tiny DenseNet (random weights, accumulated BatchNorm statistics) and its golden input.
        var weights = StateDict.Read(Fixtures.Path("Models", "densenet_tiny.pth"));
        using var model = (DenseNet)ClassifierArchitectures.Build("densenet_tiny", weights);
        StateDict.Load(model, weights);
        var x = Npy.Read(Fixtures.Path("Models", "input.npy"));
        long[] shape = x.Shape.ToArray();

        byte[] onnx = DenseNetOnnxExporter.Build(model).ToByteArray();
        float[] got = RunOnnx(onnx, x.Data, shape, out var outShape);

        Assert.Equal([shape[0], (long)model.NumClasses], outShape);
        AssertClose(RunTorch(model, x.Data, shape), got, 1e-4);
    }

    /// <summary>Non-trivial BatchNorm statistics and a non-zero head, so that every initializer matters.</summary>
    private static void Randomise(DenseNet model)
    {
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            if (name.EndsWith("running_var", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
            else if (name.EndsWith("running_mean", StringComparison.Ordinal) || name.EndsWith("bias", StringComparison.Ordinal)) t.uniform_(-0.2, 0.2);
            else if (name == "classifier.weight") t.uniform_(-1 / Math.Sqrt(t.shape[1]), 1 / Math.Sqrt(t.shape[1])); // logits of order 1
            else if (name.EndsWith("norm5.weight", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
        }
    }

    /// <summary>When SPINEXR_ONNX_KEEP is a folder, the tests leave their exports there (for tools/onnx/check_onnx.py).</summary>
    private static void Keep(ModelProto proto, string name)
    {
        string? dir = Environment.GetEnvironmentVariable("SPINEXR_ONNX_KEEP");
        if (!string.IsNullOrEmpty(dir)) DenseNetOnnxExporter.Write(proto, Path.Combine(dir, name + ".onnx"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void RandomTinyDenseNetMatchesAtAnyBatchSize(int batch)
    {
        torch.manual_seed(21);
        using var model = DenseNets.Create("densenet_tiny", 2);
        Randomise(model);
        var proto = DenseNetOnnxExporter.Build(model, inputSize: 64);
        Keep(proto, "densenet_tiny");
        Assert.Equal(DenseNetOnnxExporter.Opset, proto.OpsetImport.Single().Version);
        Assert.Equal("batch", proto.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.DoesNotContain(proto.Graph.Initializer, t => t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal));
        Assert.Contains(proto.Graph.Initializer, t => t.Name == "features.denseblock4.denselayer2.conv2.weight");
        var ops = proto.Graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.Subset(new HashSet<string> { "Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "Concat", "GlobalAveragePool", "Flatten", "Gemm" }, ops);

        long[] shape = [batch, 3, 64, 64];
        using var xt = torch.randn(shape);
        float[] x = xt.data<float>().ToArray();
        float[] got = RunOnnx(proto.ToByteArray(), x, shape, out var outShape);
        Assert.Equal([(long)batch, 2L], outShape);
        AssertClose(RunTorch(model, x, shape), got, 1e-4);
    }

    /// <summary>
    /// DenseNet-121 and densenet_small; with SPINEXR_ONNX_ALL=1 also DenseNet-169 and -201 (the same code with more layers,
    /// 4-9 s each on a busy 2-core machine, so not in the default run; tools/onnx/check_exports.sh sets it).
    /// </summary>
    public static TheoryData<string> Architectures()
    {
        var data = new TheoryData<string> { "densenet121", "densenet_small" };
        if (Environment.GetEnvironmentVariable("SPINEXR_ONNX_ALL") == "1") { data.Add("densenet169"); data.Add("densenet201"); }
        return data;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void PaperSizeAndSmallDenseNetsMatch(string arch)
    {
        // Full-depth networks with random weights on a small image (32 px keeps the test to seconds; the graph is the same at 224).
        torch.manual_seed(7);
        using var model = DenseNets.Create(arch, 1);
        Randomise(model);
        var proto = DenseNetOnnxExporter.Build(model);
        Keep(proto, arch);
        Assert.Equal("height", proto.Graph.Input[0].Type.TensorType.Shape.Dim[2].DimParam);
        long[] shape = [2, 3, 32, 32];
        using var xt = torch.randn(shape);
        float[] x = xt.data<float>().ToArray();
        float[] got = RunOnnx(proto.ToByteArray(), x, shape, out var outShape);
        Assert.Equal([2L, 1L], outShape);
        AssertClose(RunTorch(model, x, shape), got, 1e-4);
    }

    [Fact]
    public void RunDirectoryExportsWithTheCardAsMetadata()
    {
        string dir = Directory.CreateTempSubdirectory("spinexr-onnx-").FullName;
        try
        {
            torch.manual_seed(3);
            using var model = DenseNets.Create("densenet_tiny", 1);
            StateDict.SaveSafeTensors(model, Path.Combine(dir, "weights.safetensors"));
            new ModelCard("classifier", "densenet_tiny", ["abnormal"], 64, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [],
                new Provenance("test", System.Text.Json.JsonDocument.Parse("{}").RootElement, "unknown", DateTime.UnixEpoch, 0)).Save(dir);
            string outPath = Path.Combine(dir, "out", "model.onnx");

            var r = ClassifierOnnxExport.ExportRun(dir, outPath);

            Assert.True(File.Exists(outPath));
            Assert.Equal(new FileInfo(outPath).Length, r.Bytes);
            var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(outPath));
            Assert.Equal(64, proto.Graph.Input[0].Type.TensorType.Shape.Dim[2].DimValue);
            Assert.Contains(proto.MetadataProps, p => p.Key == "spinexr.architecture" && p.Value == "densenet_tiny");
            Assert.Contains(proto.MetadataProps, p => p.Key == "spinexr.mean" && p.Value == "0.5,0.5,0.5");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
