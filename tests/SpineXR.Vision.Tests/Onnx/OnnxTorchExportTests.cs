using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.IO;
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Weights;
using Xunit.Abstractions;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>
/// SpineXR's export against PyTorch's own: the same torchvision weights (Fixtures/Models/densenet_tiny.pth) exported by
/// torch.onnx.export (Fixtures/Models/densenet_tiny_torch.onnx, tools/onnx/torch_export_fixture.py) and by
/// DenseNetOnnxExporter give the same logits in ONNX Runtime.
/// </summary>
[Collection(TorchRngCollection.Name)]
public sealed class OnnxTorchExportTests
{
    private readonly ITestOutputHelper _output;

    public OnnxTorchExportTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    private static float[] Run(InferenceSession session, float[] x, long[] shape)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["input"], [input], ["logits"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void OursAndTorchOnnxExportGiveTheSameLogits()
    {
        var weights = StateDict.Read(Fixtures.Path("Models", "densenet_tiny.pth"));
        using var model = (DenseNet)ClassifierArchitectures.Build("densenet_tiny", weights);
        StateDict.Load(model, weights);
        foreach (var t in weights.Values) t.Dispose();
        using var options = OnnxRunModel.Options(SpineXR.Vision.InferenceDevice.Cpu);
        using var ours = new InferenceSession(DenseNetOnnxExporter.Build(model).ToByteArray(), options);
        using var theirs = new InferenceSession(Fixtures.Path("Models", "densenet_tiny_torch.onnx"), options);

        // the golden 2 x 32 px input, and a batch of 3 at 64 px
        var golden = Npy.Read(Fixtures.Path("Models", "input.npy"));
        var rng = new Random(3);
        var cases = new List<(float[] X, long[] Shape)>
        {
            (golden.Data, golden.Shape.ToArray()),
            (Enumerable.Range(0, 3 * 3 * 64 * 64).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray(), [3, 3, 64, 64]),
        };
        foreach (var (x, shape) in cases)
        {
            float[] a = Run(ours, x, shape), b = Run(theirs, x, shape);
            Assert.Equal(shape[0] * 3, a.Length);
            Assert.Equal(b.Length, a.Length);
            double max = a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
            _output.WriteLine($"batch {shape[0]} x {shape[2]} px: max |ours - torch.onnx.export| = {max:E2}, max |logit| {b.Max(Math.Abs):G3}");
            Assert.True(max <= 1e-4, $"logits differ by {max}");
        }
    }
}
