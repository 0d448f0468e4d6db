using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>The ResNet classifiers' ONNX graph in ONNX Runtime against TorchSharp (basic and bottleneck blocks).</summary>
[Collection(TorchRngCollection.Name)]
public sealed class ResNetOnnxExporterTests
{
    private readonly ITestOutputHelper _output;

    public ResNetOnnxExporterTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    /// <summary>An eval-mode ResNet (3 classes) with seeded random weights, BatchNorm statistics and biases.</summary>
    internal static ResNet RandomResNet(string arch)
    {
        torch.manual_seed(8);
        var model = (ResNet)ClassifierArchitectures.Create(arch, 3);
        using (no_grad())
        {
            foreach (var (name, t) in model.state_dict())
            {
                if (name.EndsWith("running_var", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
                else if (name.EndsWith("running_mean", StringComparison.Ordinal)) t.uniform_(-0.1, 0.1);
                else if (name.EndsWith("bias", StringComparison.Ordinal)) t.uniform_(-0.1, 0.1);
            }
        }
        model.eval();
        return model;
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void RandomResNetMatchesLibtorch(string arch)
    {
        using var model = RandomResNet(arch);
        using var x = randn(2, 3, 64, 64);
        float[] expected;
        using (no_grad())
        using (var y = model.call(x)) expected = y.contiguous().data<float>().ToArray();

        using var options = OnnxRunModel.Options(InferenceDevice.Cpu);
        using var session = new InferenceSession(ResNetOnnxExporter.Build(model).ToByteArray(), options);
        using var input = OrtValue.CreateTensorValueFromMemory(x.data<float>().ToArray(), [2, 3, 64, 64]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [DenseNetOnnxExporter.InputName], [input], [DenseNetOnnxExporter.OutputName]);
        float[] got = outputs[0].GetTensorDataAsSpan<float>().ToArray();

        Assert.Equal(expected.Length, got.Length);
        double max = expected.Zip(got, (a, b) => Math.Abs(a - b)).Max();
        _output.WriteLine($"{arch}: max |onnx - torch| = {max:E2}, max |logit| {expected.Max(Math.Abs):G3}");
        Assert.True(max <= 1e-4, $"logits differ by {max}");
    }
}
