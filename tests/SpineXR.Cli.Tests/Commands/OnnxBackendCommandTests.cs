using System.Globalization;
using System.Text.Json;
using SpineXR.Imaging;
using SpineXR.Vision;
using SpineXR.Vision.Detection.Training;
using SpineXR.Vision.Models;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using SpineXR.Vision.Configuration;

namespace SpineXR.Cli.Tests.Commands;

/// <summary>`model export` of both run kinds, then `predict --backend onnx` against the default libtorch backend.</summary>
public sealed class OnnxBackendCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spinexr-onnx-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Classifier, string Detector, string Images) Runs()
    {
        TorchRuntime.EnsureLoaded();
        TorchSharp.torch.manual_seed(4);
        string cls = Path.Combine(_dir, "cls"), det = Path.Combine(_dir, "det"), images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(cls);
        Directory.CreateDirectory(det);
        Directory.CreateDirectory(images);
        using (var model = DenseNets.Create("densenet_tiny", 1)) StateDict.SaveSafeTensors(model, Path.Combine(cls, "weights.safetensors"));
        new ModelCard("classifier", "densenet_tiny", ["abnormal"], 64, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [],
            new Provenance("test", JsonDocument.Parse("{}").RootElement, "unknown", DateTime.UnixEpoch, 0)).Save(cls);
        var config = DetectorTrainConfig.Cpu("retinanet").With([new("base_width", "8"), new("fpn_channels", "16"), new("min_sizes", "128"), new("max_size", "160")]);
        using (var model = config.BuildModel(3)) StateDict.SaveSafeTensors(model, Path.Combine(det, "weights.safetensors"));
        DetectorTrainer.Card(config, ["a", "b", "c"], "test", null).Save(det);
        for (int i = 0; i < 2; i++)
        {
            int w = 150 + 20 * i, h = 120;
            var px = new byte[w * h];
            for (int k = 0; k < px.Length; k++) px[k] = (byte)(((k % w) * 255 / w) ^ ((k / w) * (3 + i)));
            PngWriter.SaveGray8(Path.Combine(images, $"img{i}.png"), w, h, px);
        }
        return (cls, det, images);
    }

    private static Dictionary<string, double> Logits(string outDir) =>
        File.ReadAllLines(Path.Combine(outDir, "classifier_predictions.csv")).Skip(1)
            .Select(l => l.Split(','))
            .ToDictionary(f => f[0], f => double.Parse(f[2], CultureInfo.InvariantCulture));

    [Fact]
    public void ExportedRunsPredictAsLibtorchOnTheOnnxBackend()
    {
        var (cls, det, images) = Runs();
        Assert.Equal(0, Program.Run(["model", "export", cls, "--format", "onnx", "--out", Path.Combine(cls, "model.onnx")]));
        Assert.Equal(0, Program.Run(["model", "export", det, "--format", "onnx", "--out", Path.Combine(det, "model.onnx")]));

        string a = Path.Combine(_dir, "out-libtorch"), b = Path.Combine(_dir, "out-onnx");
        Assert.Equal(0, Program.Run(["predict", images, "--classifier", cls, "--detector", det, "--out", a, "--no-overlays", "--quiet"]));
        Assert.Equal(0, Program.Run(["predict", images, "--classifier", cls, "--detector", det, "--out", b, "--no-overlays", "--quiet", "--backend", "onnx"]));

        var expected = Logits(a);
        var got = Logits(b);
        Assert.Equal(2, expected.Count);
        Assert.Equal(expected.Keys.Order(), got.Keys.Order());
        foreach (var (id, logit) in expected) Assert.True(Math.Abs(got[id] - logit) <= 1e-4, $"{id}: onnx {got[id]} vs libtorch {logit}");
    }

    [Fact]
    public void OnnxBackendWithoutAnExportNamesTheMissingFile()
    {
        var (cls, det, images) = Runs();
        var e = Assert.Throws<InvalidDataException>(() =>
            Program.Run(["predict", images, "--classifier", cls, "--detector", det, "--out", Path.Combine(_dir, "o"), "--backend", "onnx"]));
        Assert.Contains(Path.Combine(cls, "model.onnx") + ": not found", Program.OneLine(e));

        // serve loads the same pipeline before it listens: the same one-line error, no server started
        e = Assert.Throws<InvalidDataException>(() =>
            Program.Run(["serve", "--classifier", cls, "--detector", det, "--urls", "http://127.0.0.1:0", "--backend", "onnx"]));
        Assert.Contains(Path.Combine(cls, "model.onnx") + ": not found", Program.OneLine(e));
    }
}
