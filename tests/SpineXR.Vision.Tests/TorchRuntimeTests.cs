using TorchSharp;

namespace SpineXR.Vision.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void NativeLibraryLoadsAndComputes()
    {
        TorchRuntime.EnsureLoaded();
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = torch.mm(a, a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }
}
