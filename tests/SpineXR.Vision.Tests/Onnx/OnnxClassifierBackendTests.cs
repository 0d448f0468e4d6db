using SpineXR.Imaging;
using SpineXR.Vision.Inference;
using SpineXR.Vision.Models;
using SpineXR.Vision.Onnx;
using SpineXR.Vision.Training;
using SpineXR.Vision.Weights;
using TorchSharp;
using Xunit.Abstractions;
using SpineXR.Vision.Configuration;

namespace SpineXR.Vision.Tests.Onnx;

/// <summary>`predict --backend onnx` for the classifiers: the run's model.onnx in ONNX Runtime against the libtorch module.</summary>
[Collection(TorchRngCollection.Name)]
public sealed class OnnxClassifierBackendTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _run = Directory.CreateTempSubdirectory("spinexr-onnx-backend-").FullName;

    public OnnxClassifierBackendTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.EnsureLoaded();
    }

    public void Dispose() => Directory.Delete(_run, recursive: true);

    /// <summary>A densenet_tiny run with random weights and BatchNorm statistics, exported to RUN/model.onnx.</summary>
    private void MakeRun(int seed)
    {
        torch.manual_seed(seed);
        using (var model = DenseNets.Create("densenet_tiny", 1))
        {
            using (torch.no_grad())
            {
                foreach (var (name, t) in model.state_dict())
                    if (name.EndsWith("running_var", StringComparison.Ordinal)) t.uniform_(0.5, 1.5);
                    else if (name.EndsWith("running_mean", StringComparison.Ordinal)) t.uniform_(-0.2, 0.2);
            }
            StateDict.SaveSafeTensors(model, Path.Combine(_run, "weights.safetensors"));
        }
        new ModelCard("classifier", "densenet_tiny", ["abnormal"], 64, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [],
            new Provenance("test", System.Text.Json.JsonDocument.Parse("{}").RootElement, "unknown", DateTime.UnixEpoch, 0)).Save(_run);
        ClassifierOnnxExport.ExportRun(_run, Path.Combine(_run, OnnxRunModel.FileName));
    }

    /// <summary>Five different-sized 8-bit images (not square, so the flip is not a symmetry of the input).</summary>
    private static List<(string, Func<GrayImage>)> Images()
    {
        var rng = new Random(7);
        return Enumerable.Range(0, 5).Select(i =>
        {
            int w = 70 + 9 * i, h = 90 - 5 * i;
            var px = new byte[w * h];
            rng.NextBytes(px);
            var img = new GrayImage(px, w, h, 8, 1, 1, w, h);
            return ($"img{i}", (Func<GrayImage>)(() => img));
        }).ToList();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnnxBackendGivesTheLibtorchLogits(bool tta)
    {
        MakeRun(11);
        var images = Images();
        using var torchClf = Classifier.Load(_run);
        using var onnxClf = Classifier.Load(_run, new InferenceEngine { Backend = InferenceBackend.Onnx });
        Assert.Equal(InferenceBackend.Onnx, onnxClf.Backend);

        // batch 2 leaves a last batch of one: the ONNX input's batch dimension is symbolic
        var expected = torchClf.Predict(images, batchSize: 2, hflipTta: tta, workers: 1);
        var got = onnxClf.Predict(images, batchSize: 2, hflipTta: tta, workers: 1);

        double max = expected.Zip(got, (a, b) => Math.Abs(a.Logit - b.Logit)).Max();
        _output.WriteLine($"tta={tta}: max |onnx - libtorch| logit = {max:E2}, logits {string.Join(", ", expected.Select(p => p.Logit.ToString("F3")))}");
        Assert.All(got, p => Assert.True(p.Ok));
        Assert.True(expected.Select(p => p.Logit).Distinct().Count() > 1, "the images should not all give one logit");
        Assert.True(max <= 1e-4, $"max logit difference {max}");
    }

    [Fact]
    public void ModelOfOtherWeightsIsRefusedNamingTheFile()
    {
        MakeRun(12);
        // retrained: new weights, the old export left in place
        torch.manual_seed(13);
        using (var model = DenseNets.Create("densenet_tiny", 1)) StateDict.SaveSafeTensors(model, Path.Combine(_run, "weights.safetensors"));

        var e = Assert.Throws<InvalidDataException>(() => Classifier.Load(_run, new InferenceEngine { Backend = InferenceBackend.Onnx }));
        Assert.Contains(Path.Combine(_run, "model.onnx"), e.Message);
        Assert.Contains("exported from other weights", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingExportSaysHowToMakeIt()
    {
        MakeRun(14);
        File.Delete(Path.Combine(_run, "model.onnx"));
        var e = Assert.Throws<InvalidDataException>(() => Classifier.Load(_run, new InferenceEngine { Backend = InferenceBackend.Onnx }));
        Assert.Contains("not found; export it with `spinexr model export", e.Message);
    }

    [Fact]
    public void CudaWithoutTheGpuBuildIsOneLineError()
    {
        MakeRun(15);
        // This machine's ONNX Runtime is the CPU package: no CUDA provider, so the request fails before any session.
        var e = Assert.Throws<NotSupportedException>(() => Classifier.Load(_run, new InferenceEngine { Backend = InferenceBackend.Onnx, Device = InferenceDevice.Cuda }));
        Assert.StartsWith("--device cuda: this ONNX Runtime has no CUDA provider", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Throws<ArgumentException>(() => Classifier.Load(_run, new InferenceEngine { Device = InferenceDevice.Cuda }));
    }
}
