using SpineXR.Vision.Models;
using SpineXR.Vision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SpineXR.Vision.Tests.Weights;

public class SafeTensorsTests
{
    public SafeTensorsTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void ModelRoundTripsThroughSafeTensorsBitExactly()
    {
        string dir = Fixtures.TempDir("st");
        var weights = StateDict.Read(Fixtures.Path("Models", "densenet_tiny.pth"));
        using var a = ClassifierArchitectures.Build("densenet_tiny", weights);
        StateDict.Load(a, weights);
        string path = Path.Combine(dir, "weights.safetensors");
        StateDict.SaveSafeTensors(a, path);

        var back = SafeTensors.Read(path, out var meta);
        Assert.Equal("pt", meta["format"]);
        using var b = ClassifierArchitectures.Build("densenet_tiny", back);
        Assert.True(StateDict.Load(b, back).IsExact);
        foreach (var (k, t) in a.state_dict())
        {
            Assert.Equal(t.dtype, back[k].dtype);
            Assert.True(t.eq(back[k]).all().item<bool>(), k);
        }
        // The header is 8-byte aligned as the reference writer does, and includes int64 counters.
        byte[] raw = File.ReadAllBytes(path);
        Assert.Equal(0UL, BitConverter.ToUInt64(raw, 0) % 8);
        Assert.Equal(ScalarType.Int64, back["features.norm0.num_batches_tracked"].dtype);
    }

    [Fact]
    public void TruncatedFileIsRejectedWithItsName()
    {
        string dir = Fixtures.TempDir("st");
        string path = Path.Combine(dir, "w.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["a"] = torch.ones(10, 10) });
        byte[] raw = File.ReadAllBytes(path);
        File.WriteAllBytes(path, raw[..^8]);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
        Assert.Contains("w.safetensors", e.Message);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => StateDict.Read(path));
        string pth = Path.Combine(dir, "bad.pth");
        File.WriteAllText(pth, "not a zip");
        Assert.Contains("bad.pth", Assert.Throws<InvalidDataException>(() => StateDict.Read(pth)).Message);
    }
}
