using System.Text.Json;
using SpineXR.Vision;
using SpineXR.Vision.Models;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;

namespace SpineXR.Cli.Tests.Commands;

public class ModelExportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Run(string arch, bool weights)
    {
        string run = Path.Combine(_dir, arch);
        Directory.CreateDirectory(run);
        new ModelCard("classifier", arch, ["abnormal"], 64, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [],
            new Provenance("test", JsonDocument.Parse("{}").RootElement, "unknown", DateTime.UnixEpoch, 0)).Save(run);
        if (weights)
        {
            TorchRuntime.EnsureLoaded();
            using var model = DenseNets.Create(arch, 1);
            StateDict.SaveSafeTensors(model, Path.Combine(run, "weights.safetensors"));
        }
        return run;
    }

    [Fact]
    public void ExportsADenseNetRun()
    {
        string run = Run("densenet_tiny", weights: true);
        string onnx = Path.Combine(_dir, "m.onnx");
        Assert.Equal(0, Program.Run(["model", "export", run, "--format", "onnx", "--out", onnx]));
        Assert.True(new FileInfo(onnx).Length > 1000);
    }

    [Fact]
    public void ExportsAResNetClassifierRun()
    {
        string run = Run("resnet18", weights: false);
        TorchRuntime.EnsureLoaded();
        using (var model = ClassifierArchitectures.Create("resnet18", 1)) StateDict.SaveSafeTensors(model, Path.Combine(run, "weights.safetensors"));
        string onnx = Path.Combine(_dir, "r.onnx");
        Assert.Equal(0, Program.Run(["model", "export", run, "--format", "onnx", "--out", onnx]));
        Assert.True(new FileInfo(onnx).Length > 40_000_000); // ResNet-18's 11.7 M float32 weights
    }

    [Fact]
    public void BadUsageIsAUsageError()
    {
        // a detector run without weights: the usage is checked before the run is read
        string run = Path.Combine(_dir, "sparse");
        Directory.CreateDirectory(run);
        SpineXR.Vision.Detection.Training.DetectorTrainer.Card(SpineXR.Vision.Configuration.DetectorTrainConfig.Cpu("sparse-rcnn"), ["a"], "test", null).Save(run);
        string onnx = Path.Combine(_dir, "m.onnx");
        Assert.Contains("--format", Assert.Throws<UsageException>(() => Program.Run(["model", "export", run, "--out", onnx])).Message);
        Assert.Contains("tflite", Assert.Throws<UsageException>(() => Program.Run(["model", "export", run, "--format", "tflite", "--out", onnx])).Message);
        Assert.Contains("RUN", Assert.Throws<UsageException>(() => Program.Run(["model", "export", "--format", "onnx", "--out", onnx])).Message);
        Assert.Contains("no weights.safetensors", Program.OneLine(Assert.ThrowsAny<Exception>(() => Program.Run(["model", "export", run, "--format", "onnx", "--out", onnx]))));
        Assert.False(File.Exists(onnx));
    }
}
