using SpineXR.Imaging;

namespace SpineXR.Tests.Imaging;

public class ResamplerTests
{
    [Fact]
    public void HalvingAveragesEachTwoByTwoBlock()
    {
        byte[] src = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150];
        var dst = new byte[4];
        Resampler.Resize(src, 4, 4, dst, 2, 2, 2);
        Assert.Equal(new byte[] { 25, 45, 105, 125 }, dst);
    }

    [Fact]
    public void FractionalAreaWeightsPartialPixels()
    {
        // 3 -> 2: output 0 covers source [0, 1.5): (a + 0.5 b) / 1.5.
        ushort[] src = [300, 600, 900];
        var dst = new ushort[2];
        Resampler.Resize(src, 3, 1, dst, 2, 1, 2);
        Assert.Equal(new ushort[] { 400, 800 }, dst);
    }

    [Fact]
    public void EnlargingIsBilinearWithCentresAligned()
    {
        byte[] src = [0, 100];
        var dst = new byte[4];
        Resampler.Resize(src, 2, 1, dst, 4, 1, 4);
        Assert.Equal(new byte[] { 0, 25, 75, 100 }, dst); // centres at -0.25, 0.25, 0.75, 1.25 (clamped)
    }

    [Fact]
    public void AConstantImageStaysConstantAtAnySize()
    {
        var src = Enumerable.Repeat((byte)77, 97 * 61).ToArray();
        foreach (var (w, h) in new[] { (40, 30), (128, 128), (7, 200) })
        {
            var dst = new byte[w * h];
            Resampler.Resize(src, 97, 61, dst, w, h, w);
            Assert.All(dst, v => Assert.Equal(77, v));
        }
    }

    [Fact]
    public void FitKeepsAspectWhereAsked()
    {
        Assert.Equal((512, 512, 512, 512), new ImageLoadOptions { Size = 512 }.Fit(900, 1100));
        Assert.Equal((512, 512, 419, 512), new ImageLoadOptions { Size = 512, Mode = ResizeMode.Letterbox }.Fit(900, 1100));
        Assert.Equal((800, 978, 800, 978), new ImageLoadOptions { Size = 800, MaxSize = 1333, Mode = ResizeMode.ShortSide }.Fit(900, 1100));
        Assert.Equal((400, 1333, 400, 1333), new ImageLoadOptions { Size = 800, MaxSize = 1333, Mode = ResizeMode.ShortSide }.Fit(300, 1000));
        Assert.Throws<ArgumentException>(() => new ImageLoadOptions { Bits = 12 }.Validate());
    }
}
