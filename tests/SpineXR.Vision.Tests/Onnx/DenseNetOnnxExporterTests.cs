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
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Onnx;

[Collection(TorchRngCollection.Name)]
public class DenseNetOnnxExporterTests
{
    public DenseNetOnnxExporterTests() => TorchRuntime.EnsureLoaded();

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

    private static void AssertClose(float[] expected, float[] got, double tol)
    {
        Assert.Equal(expected.Length, got.Length);
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

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void RandomTinyDenseNetMatchesAtAnyBatchSize(int batch)
    {
        torch.manual_seed(21);
        using var model = DenseNets.Create("densenet_tiny", 2);
        using (no_grad())
        {
            // Non-trivial BatchNorm statistics and a non-zero head, so every initializer matters.
            foreach (var (name, t) in model.state_dict())
            {
                if (name.EndsWith("running_var", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
                else if (name.EndsWith("running_mean", StringComparison.Ordinal) || name.EndsWith("bias", StringComparison.Ordinal)) t.uniform_(-0.2, 0.2);
                else if (name.StartsWith("classifier.", StringComparison.Ordinal) || name.EndsWith("norm5.weight", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
            }
        }
        var proto = DenseNetOnnxExporter.Build(model, inputSize: 64);
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
